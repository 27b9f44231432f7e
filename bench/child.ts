// One benchmark server per process, so the load generator never shares an event loop with what it
// measures. argv: <role> <dir> [json]; prints {"port":N} on stdout once listening.
import { join } from 'node:path';
import { Pool } from 'undici';
import { startCoreStore } from '../src/core-store/server.ts';
import { syntheticSource } from '../src/core-store/source.ts';
import { certPaths } from '../src/tls/dev-certs.ts';
import { clientTlsOptions } from '../src/tls/options.ts';
import { createHttpsServer, listen } from '../src/tls/server.ts';
import { loadConfig } from '../src/config/load.ts';
import { startGateway } from '../src/main.ts';
import { createLogger } from '../src/log.ts';
import { startDurableRelay } from './durable-relay.ts';

const [role, dir, extra] = process.argv.slice(2) as [string, string, string | undefined];
const args = extra ? JSON.parse(extra) : {};
const c = certPaths(join(dir, 'certs'));
const client = { ca: c.ca, cert: c.cert('gateway-client'), key: c.key('gateway-client') };
let port: number;

if (role === 'store') {
  port = (await startCoreStore({ port: 0, host: '127.0.0.1', source: syntheticSource(args.users), tls: { cert: c.cert('core-store'), key: c.key('core-store') } })).port;
} else if (role === 'passthrough') {
  // The bare relay the gateway is compared with: same TLS listener, same undici pool, no policy.
  const pool = new Pool(args.upstream, { connections: 64, connect: clientTlsOptions(client) });
  const server = createHttpsServer({ cert: c.cert('gateway'), key: c.key('gateway') }, (req, res) => {
    pool.request({ path: `/users/${(req.url ?? '').split('/').pop()}`, method: 'GET' }).then(async (up) => {
      res.writeHead(up.statusCode, { 'content-type': 'application/json' });
      res.end(Buffer.from(await up.body.arrayBuffer()));
    }, () => { res.writeHead(503); res.end(); });
  });
  port = await listen(server, 0, '127.0.0.1');
} else if (role === 'durable') {
  port = await startDurableRelay(args.upstream, args.redis, client, { cert: c.cert('gateway'), key: c.key('gateway') });
} else {
  const config = loadConfig({
    overrides: {
      server: { port: 0, tls: { cert: c.cert('gateway'), key: c.key('gateway'), ca: c.ca } },
      upstream: { url: args.upstream, tls: client },
      redis: { url: args.redis, tls: client },
      keys: { dir: join(dir, 'keys') },
      limits: { maxPageSize: 1000, defaultPageSize: 100 },
    },
  });
  port = (await startGateway(config, { log: createLogger('silent'), bootstrapAdminToken: args.adminToken })).port;
}
process.stdout.write(JSON.stringify({ port }) + '\n');
process.on('SIGTERM', () => process.exit(0));
