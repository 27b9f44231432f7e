// One benchmark server per process (the store and the relays; the gateway runs from dist/ through
// bench/gateway-proc.ts), so the load generator never shares an event loop with what it measures.
// argv: <role> <dir> [json]; prints {"port":N} on stdout once listening.
import { join } from 'node:path';
import { startCoreStore } from '../src/core-store/server.ts';
import { syntheticSource } from '../src/core-store/source.ts';
import { certPaths } from '../src/tls/dev-certs.ts';
import { startDurableRelay } from './durable-relay.ts';
import { startRelay } from './relay.ts';

const [role, dir, extra] = process.argv.slice(2) as [string, string, string | undefined];
const args = extra ? JSON.parse(extra) : {};
const c = certPaths(join(dir, 'certs'));
const client = { ca: c.ca, cert: c.cert('gateway-client'), key: c.key('gateway-client') };
let port: number;

if (role === 'store') {
  port = (await startCoreStore({ port: 0, host: '127.0.0.1', source: syntheticSource(args.users), tls: { cert: c.cert('core-store'), key: c.key('core-store') } })).port;
} else if (role === 'passthrough') {
  port = await startRelay(args.upstream, client, { cert: c.cert('gateway'), key: c.key('gateway') });
} else if (role === 'durable') {
  port = await startDurableRelay(args.upstream, args.redis, client, { cert: c.cert('gateway'), key: c.key('gateway') });
} else {
  // The gateway runs from dist/ as shipped (bench/gateway-proc.ts), not from here.
  throw new Error(`unknown role ${role}`);
}
process.stdout.write(JSON.stringify({ port }) + '\n');
process.on('SIGTERM', () => process.exit(0));
