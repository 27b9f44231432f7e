// The primary of `serve --workers N` (issue 17 item 2): forks N workers that share the partner and
// control-plane ports (node:cluster hands each accepted connection to a worker), listens nowhere
// itself, replaces a worker that dies (logged), stops the service when workers keep dying, keeps
// every worker's readiness for /readyz and aggregates every worker's metrics for /metrics.
//
// /metrics: the worker that receives the scrape (after its own role-token check) asks the primary
// over IPC; the primary gathers every worker's registry with prom-client's AggregatorRegistry
// (counters and histograms summed, gauges as each declares) and sends the text back.
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import type { Logger } from '../log.ts';
import { isAsk, isReadyReport, type Answer } from './cluster-messages.ts';
import { restartPolicy } from './restart-policy.ts';

export interface PrimaryOptions {
  workers: number;
  log: Logger;
  /** server.drainTimeoutMs: each worker drains within it; the primary waits that plus a margin. */
  drainTimeoutMs: number;
  /** Resolves on SIGTERM/SIGINT (cli/signals.ts). */
  untilSignal: Promise<NodeJS.Signals>;
}

/** After the drain timeout, how long a worker may take to close its clients before it is killed. */
const CLOSE_MARGIN_MS = 10_000;

export async function runPrimary(o: PrimaryOptions): Promise<number> {
  const { log } = o;
  const aggregator = new AggregatorRegistry();
  const ready = new Map<number, boolean>();
  const policy = restartPolicy();
  let stopping = false;
  let allReadyLogged = false;
  let giveUp: (code: number) => void = () => undefined;
  const gaveUp = new Promise<number>((resolve) => { giveUp = resolve; });

  const fork = (): Worker => {
    const w = cluster.fork();
    ready.set(w.id, false);
    return w;
  };
  const readyCount = () => [...ready.values()].filter(Boolean).length;

  cluster.on('message', (w: Worker, m: unknown) => {
    if (isReadyReport(m)) {
      if (!ready.has(w.id)) return; // a report from a worker already counted dead
      ready.set(w.id, m.ready);
      if (!allReadyLogged && readyCount() === o.workers) {
        allReadyLogged = true;
        log.info({ workers: o.workers }, 'all workers ready');
      }
      return;
    }
    if (!isAsk(m)) return;
    const reply = (a: Omit<Answer, 'pg' | 'id'>) => {
      if (w.isConnected()) w.send({ pg: 'answer', id: m.id, ...a } satisfies Answer);
    };
    if (m.what === 'workers') {
      // Workers not yet forked again after a death are missing from `ready`: not ready.
      reply({ workers: { ready: readyCount(), total: o.workers } });
    } else {
      aggregator.clusterMetrics().then(
        (text) => reply({ metrics: text }),
        (e: Error) => reply({ error: `metrics aggregation failed: ${e.message}` }),
      );
    }
  });

  cluster.on('exit', (w: Worker, code: number | null, signal: string | null) => {
    ready.delete(w.id);
    const workerPid = w.process.pid;
    if (stopping) return;
    // Never request data: the worker's pid, id and how it ended.
    if (!policy.shouldRestart(Date.now())) {
      log.fatal({ workerPid, worker: w.id, code, signal, deaths: policy.recentDeaths, windowSeconds: 60 },
        `workers keep dying (${policy.recentDeaths} deaths within 60 s): stopping the service`);
      giveUp(1);
      return;
    }
    const next = fork();
    log.warn({ workerPid, worker: w.id, code, signal, newWorkerPid: next.process.pid, newWorker: next.id }, 'worker died and was restarted');
  });

  log.info({ workers: o.workers }, 'starting workers');
  for (let i = 0; i < o.workers; i++) fork();

  const outcome = await Promise.race([o.untilSignal.then((signal) => ({ signal, code: 0 })), gaveUp.then((code) => ({ signal: null, code }))]);
  stopping = true;
  if (outcome.signal) log.info({ signal: outcome.signal }, 'draining every worker');
  const drained = await stopWorkers(o.drainTimeoutMs + CLOSE_MARGIN_MS);
  if (!drained) log.error({ afterMs: o.drainTimeoutMs + CLOSE_MARGIN_MS }, 'a worker did not stop in time and was killed');
  log.info('stopped');
  return drained ? outcome.code : 1;
}

/** SIGTERM to every worker (each drains like the single process does), SIGKILL after `ms`. */
async function stopWorkers(ms: number): Promise<boolean> {
  const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && !w.isDead());
  const exits = workers.map((w) => new Promise<void>((resolve) => { if (w.isDead()) resolve(); else w.once('exit', () => resolve()); }));
  for (const w of workers) w.process.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), ms); });
  const ok = await Promise.race([Promise.all(exits).then(() => true as const), late]);
  clearTimeout(timer);
  if (!ok) for (const w of workers) if (!w.isDead()) w.process.kill('SIGKILL');
  return ok;
}
