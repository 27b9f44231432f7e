// A partner's webhook receiver for the notices tests: a real HTTPS server on localhost with a
// certificate from the test CA, answering each request as the test scripts it, and counting
// every TCP connection that reaches it (RULES 45 tests assert that none does).
import type { IncomingHttpHeaders } from 'node:http';
import { createHttpsServer, listen } from '../../src/tls/server.ts';
import { testCerts } from './certs.ts';

export interface Received { headers: IncomingHttpHeaders; body: string; status: number }
export interface Reply { status: number; headers?: Record<string, string>; body?: string }

export interface WebhookReceiver {
  port: number;
  url(path?: string): string;
  received: Received[];
  /** TCP connections accepted, whether or not a request followed. */
  connections: number;
  close(): Promise<void>;
}

/** `reply(n)` answers the n-th request (1-based); default 204. */
export async function startWebhookReceiver(reply: (n: number) => Reply = () => ({ status: 204 })): Promise<WebhookReceiver> {
  const c = await testCerts();
  const received: Received[] = [];
  const server = createHttpsServer({ cert: c.cert('core-store'), key: c.key('core-store') }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const r = reply(received.length + 1);
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), status: r.status });
      res.writeHead(r.status, r.headers ?? {});
      res.end(r.body ?? '');
    });
  });
  const rx = {
    port: 0, received, connections: 0,
    url(path = '/notices') { return `https://localhost:${this.port}${path}`; },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  server.on('connection', () => { rx.connections++; });
  rx.port = await listen(server, 0, '127.0.0.1');
  return rx;
}
