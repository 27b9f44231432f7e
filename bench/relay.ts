// The bare relay the gateway is compared with: same TLS listener, same undici pool, no policy.
// `beforeAnswer` (the durable-log floor) runs once the store's bytes are in and before any is sent.
import { Pool } from 'undici';
import { clientTlsOptions, type TlsFiles } from '../src/tls/options.ts';
import { createHttpsServer, listen } from '../src/tls/server.ts';

export function startRelay(upstream: string, client: TlsFiles, serverTls: { cert: string; key: string }, beforeAnswer?: (id: string) => Promise<void>): Promise<number> {
  const pool = new Pool(upstream, { connections: 64, connect: clientTlsOptions(client) });
  const server = createHttpsServer(serverTls, (req, res) => {
    const id = (req.url ?? '').split('/').pop()!;
    pool.request({ path: `/users/${id}`, method: 'GET' }).then(async (up) => {
      const body = Buffer.from(await up.body.arrayBuffer());
      await beforeAnswer?.(id);
      res.writeHead(up.statusCode, { 'content-type': 'application/json' });
      res.end(body);
    }).catch(() => { res.writeHead(503); res.end(); });
  });
  return listen(server, 0, '127.0.0.1');
}
