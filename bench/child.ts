// One benchmark server per process, so the load generator never shares an event loop with what it
// measures. argv: <role> <dir> [json]; prints {"port":N} on stdout once listening.
import { join } from 'node:path';
import { startCoreStore } from '../src/core-store/server.ts';
import { syntheticSource } from '../src/core-store/source.ts';
import { certPaths } from '../src/tls/dev-certs.ts';
import { loadConfig } from '../src/config/load.ts';
import { startGateway } from '../src/main.ts';
import { createLogger } from '../src/log.ts';
import { startDurableRelay } from './durable-relay.ts';
import { startRelay } from './relay.ts';

const [role, dir, extra] = process.argv.slice(2) as [string, string, string | undefined];
const args = extra ? JSON.parse(extra) : {};
const c = certPaths(join(dir, 'certs'));
const client = { ca: c.ca, cert: c.cert('gateway-client'), key: c.key('gateway-client') };
let port: number;
let adminPort: number | undefined;

if (role === 'store') {
  port = (await startCoreStore({ port: 0, host: '127.0.0.1', source: syntheticSource(args.users), tls: { cert: c.cert('core-store'), key: c.key('core-store') } })).port;
} else if (role === 'passthrough') {
  port = await startRelay(args.upstream, client, { cert: c.cert('gateway'), key: c.key('gateway') });
} else if (role === 'durable') {
  port = await startDurableRelay(args.upstream, args.redis, client, { cert: c.cert('gateway'), key: c.key('gateway') });
} else {
  const config = loadConfig({
    overrides: {
      server: { port: 0, tls: { cert: c.cert('gateway'), key: c.key('gateway'), ca: c.ca } },
      admin: { port: 0, tls: { cert: c.cert('gateway'), key: c.key('gateway'), ca: c.ca } },
      upstream: { url: args.upstream, tls: client },
      redis: { url: args.redis, tls: client },
      keys: { dir: join(dir, 'keys') },
      limits: { maxPageSize: 1000, defaultPageSize: 100, cursorTtlSeconds: 86400 },
      // bench/console-pages.ts signs in to the console with the admin token.
      ...(args.console ? { console: { tokenLogin: true } } : {}),
    },
  });
  const gw = await startGateway(config, { log: createLogger('silent'), bootstrapAdminToken: args.adminToken });
  port = gw.port;
  adminPort = gw.adminPort; // RULES 43: the admin API is on its own listener
}
process.stdout.write(JSON.stringify({ port, ...(adminPort !== undefined ? { adminPort } : {}) }) + '\n');
process.on('SIGTERM', () => process.exit(0));
