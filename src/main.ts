// Start-up: build dependencies, listen over HTTPS on the partner and the control-plane listeners
// (RULES 43), drain both on SIGTERM.
import type { Server } from 'node:https';
import { createApps } from './app.ts';
import { createDeps, type Deps, type DepsOptions } from './deps.ts';
import { createAdminHttpsServer, createHttpsServer, listen } from './tls/server.ts';
import type { Config } from './config/schema.ts';
import { boundHeapGrowth } from './heap-growth.ts';
import { assertTlsEnvironment } from './tls/environment-guard.ts';
import { answerParserRefusals } from './http/parser-refusal.ts';

export interface Gateway {
  /** The partner listener (server.*). */
  server: Server;
  port: number;
  /** The control-plane listener (admin.*): /admin/*, /metrics. */
  adminServer: Server;
  adminPort: number;
  deps: Deps;
  /** Stop accepting on both listeners, let in-flight requests finish (up to drainTimeoutMs), close clients. */
  close(): Promise<void>;
}

function drain(server: Server, timeoutMs: number): Promise<void> {
  const drained = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), timeoutMs);
  return drained.finally(() => clearTimeout(timer));
}

export async function startGateway(config: Config, opts: DepsOptions = {}): Promise<Gateway> {
  // RULES 34: a process whose environment weakens TLS does not serve (the CLI checks earlier too).
  assertTlsEnvironment(process.env, process.execArgv);
  boundHeapGrowth();
  const deps = await createDeps(config, opts);
  const apps = createApps(deps);
  // RULES 35, 48: a handshake refused for the TLS floor or cipher list is counted in the access-denial record.
  const refused = (reason: 'tls_floor' | 'tls_cipher', remoteAddress: string | undefined) => deps.accessDenials.refused({ reason, client: null, remoteAddress });
  const server = createHttpsServer(config.server.tls, apps.partner, refused);
  const adminServer = createAdminHttpsServer(config.admin.tls, apps.admin, refused);
  // CONTRACT 6: what the HTTP parser refuses (431, a malformed request) is problem+json too.
  for (const s of [server, adminServer]) answerParserRefusals(s, deps.log);
  let port: number;
  let adminPort: number;
  try {
    port = await listen(server, config.server.port, config.server.host);
    adminPort = await listen(adminServer, config.admin.port, config.admin.host);
  } catch (e) {
    // One listener without the other is not a gateway: release what opened and fail start-up.
    server.close();
    adminServer.close();
    await deps.close();
    throw e;
  }
  deps.setListeningPort(port);
  deps.log.info({ port, host: config.server.host }, 'gateway partner listener (HTTPS only)');
  deps.log.info({ port: adminPort, host: config.admin.host, staffMtls: config.admin.tls.requireClientCert }, 'gateway control-plane listener (HTTPS only)');
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await Promise.all([drain(server, config.server.drainTimeoutMs), drain(adminServer, config.server.drainTimeoutMs)]);
      await deps.close();
    })());
  return { server, port, adminServer, adminPort, deps, close };
}
