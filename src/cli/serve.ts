// partner-gateway serve [--workers N]: the gateway alone, from configuration; SIGTERM drains then
// exits 0. With more than one worker (issue 17 item 2) this process becomes the node:cluster
// primary (cli/cluster-primary.ts) and each worker runs the gateway on the shared ports.
import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { loadConfig, ConfigError } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { createLogger } from '../log.ts';
import { startGateway } from '../main.ts';
import { startupChecks } from '../deps.ts';
import { untilSignal } from './signals.ts';
import { runPrimary } from './cluster-primary.ts';
import { reportReadiness, workerLink } from './cluster-worker.ts';

export async function serve(env: NodeJS.ProcessEnv, args: string[] = []): Promise<number> {
  const config = loadConfig({ env });
  if (cluster.isWorker) return serveWorker(config, env);
  const workers = workerCount(config, args);
  if (workers === 1) return serveOne(config, env);
  // What a worker would refuse at start (certificates, the bootstrap token) stops the service here, naming the setting.
  startupChecks(config, { bootstrapAdminToken: env.BOOTSTRAP_ADMIN_TOKEN || undefined });
  // Listen for the signal before forking: a SIGTERM during start-up still drains and exits 0.
  const signal = untilSignal();
  const log = createLogger(config.log.level).child({ role: 'primary', pid: process.pid });
  return runPrimary({ workers, log, drainTimeoutMs: config.server.drainTimeoutMs, untilSignal: signal });
}

/** --workers N, else server.workers, else every core this process may use. */
function workerCount(config: Config, args: string[]): number {
  const { values } = parseArgs({ args, options: { workers: { type: 'string' } } });
  if (values.workers === undefined) return config.server.workers ?? availableParallelism();
  const n = Number(values.workers);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new ConfigError('--workers: must be an integer from 1 to 256');
  return n;
}

/** workers 1: today's single process, no cluster primary. */
async function serveOne(config: Config, env: NodeJS.ProcessEnv): Promise<number> {
  // CONTRACT 5: an admin token accepted from start; the gateway keeps only its hash.
  const gw = await startGateway(config, { bootstrapAdminToken: env.BOOTSTRAP_ADMIN_TOKEN || undefined });
  const sig = await untilSignal();
  gw.deps.log.info({ signal: sig }, 'draining in-flight requests');
  await gw.close();
  gw.deps.log.info('stopped');
  return 0;
}

async function serveWorker(config: Config, env: NodeJS.ProcessEnv): Promise<number> {
  // Before start-up: the primary's SIGTERM may come while this worker is still starting.
  const signal = untilSignal();
  // Each worker's log lines carry its pid and worker id, so operators can tell them apart.
  const log = createLogger(config.log.level).child({ worker: cluster.worker?.id, pid: process.pid });
  try {
    let link: ReturnType<typeof workerLink> | undefined;
    const gw = await startGateway(config, {
      log,
      bootstrapAdminToken: env.BOOTSTRAP_ADMIN_TOKEN || undefined,
      cluster: (registry) => (link = workerLink(registry)),
    });
    if (!link) throw new Error('the worker link was not created');
    // Readiness a worker can tell without I/O: its policy caches loaded and its Redis connection
    // up. Redis and the store themselves are checked by whichever worker answers /readyz.
    const d = gw.deps;
    const stopReporting = reportReadiness(() => d.agreements.ready && d.partnerKeys.ready && d.jurisdiction.ready && d.redis.isReady);
    const sig = await signal;
    // Ctrl-C reaches the whole process group: this worker gets SIGINT and then the primary's SIGTERM.
    // The second must not cut the drain short; the primary bounds it (SIGKILL after the drain timeout).
    const ignore = () => undefined;
    process.on('SIGTERM', ignore);
    process.on('SIGINT', ignore);
    stopReporting();
    log.info({ signal: sig }, 'draining in-flight requests');
    await gw.close();
    log.info('stopped');
    return 0;
  } finally {
    // The IPC channel keeps a worker alive: close it so the process exits once drained (or failed).
    if (process.connected) process.disconnect();
  }
}
