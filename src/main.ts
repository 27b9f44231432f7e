// Start-up: build dependencies, listen over HTTPS, drain on SIGTERM.
import type { Server } from 'node:https';
import { createApp } from './app.ts';
import { createDeps, type Deps, type DepsOptions } from './deps.ts';
import { createHttpsServer, listen } from './tls/server.ts';
import type { Config } from './config/schema.ts';
import { boundHeapGrowth } from './heap-growth.ts';

export interface Gateway {
  server: Server;
  port: number;
  deps: Deps;
  /** Stop accepting, let in-flight requests finish (up to drainTimeoutMs), close clients. */
  close(): Promise<void>;
}

export async function startGateway(config: Config, opts: DepsOptions = {}): Promise<Gateway> {
  boundHeapGrowth();
  const deps = await createDeps(config, opts);
  const app = createApp(deps);
  const server = createHttpsServer(config.server.tls, app);
  const port = await listen(server, config.server.port, config.server.host);
  deps.setListeningPort(port);
  deps.log.info({ port, host: config.server.host }, 'gateway listening (HTTPS only)');
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      const drained = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), config.server.drainTimeoutMs);
      await drained;
      clearTimeout(timer);
      await deps.close();
    })());
  return { server, port, deps, close };
}
