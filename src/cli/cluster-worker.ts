// The worker side of `serve --workers N` (issue 17 item 2): asks the primary over IPC for what one
// worker cannot know alone (every worker's readiness, the metrics of every worker) and tells it
// its own readiness. Only cli/ touches `process` (DESIGN).
import { AggregatorRegistry, type Registry } from 'prom-client';
import { isAnswer, type Answer, type Ask, type ReadyReport } from './cluster-messages.ts';

/** How long a worker waits for the primary's cluster view: /readyz must answer, not hang. */
const VIEW_TIMEOUT_MS = 2000;
/** prom-client's aggregation waits up to 5 s for every worker; wait a little longer for its answer. */
const METRICS_TIMEOUT_MS = 6000;

export interface ClusterLink {
  /** Ready workers and how many the primary runs (ready === total: the whole service is ready). */
  workers(): Promise<{ ready: number; total: number }>;
  /** The metrics of every worker, aggregated by the primary (sums for counters). */
  metrics: { readonly contentType: Registry['contentType']; metrics(): Promise<string> };
}

export function workerLink(registry: Registry): ClusterLink {
  // prom-client answers the primary's aggregation requests only once an AggregatorRegistry exists
  // in this process, and reads the registries named here (ours is not the global one).
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
  let next = 0;
  const pending = new Map<number, (a: Answer | Error) => void>();
  process.on('message', (m: unknown) => {
    if (!isAnswer(m)) return;
    pending.get(m.id)?.(m);
  });
  const ask = (what: Ask['what'], timeoutMs: number): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const id = ++next;
      const timer = setTimeout(() => settle(new Error(`the primary did not answer (${what})`)), timeoutMs);
      const settle = (a: Answer | Error) => {
        clearTimeout(timer);
        pending.delete(id);
        if (a instanceof Error) reject(a);
        else if (a.error) reject(new Error(a.error));
        else resolve(a);
      };
      pending.set(id, settle);
      send({ pg: 'ask', id, what } satisfies Ask, settle);
    });
  return {
    async workers() {
      const a = await ask('workers', VIEW_TIMEOUT_MS);
      if (!a.workers) throw new Error('the primary sent no cluster view');
      return a.workers;
    },
    metrics: {
      contentType: registry.contentType,
      async metrics() {
        const a = await ask('metrics', METRICS_TIMEOUT_MS);
        if (typeof a.metrics !== 'string') throw new Error('the primary sent no metrics');
        return a.metrics;
      },
    },
  };
}

/**
 * Reports this worker's readiness to the primary now and whenever it changes (checked every
 * `everyMs`, in memory only: no I/O per tick). Returns a stop function that reports not ready,
 * so a draining worker stops counting as ready at once.
 */
export function reportReadiness(isReady: () => boolean, everyMs = 500): () => void {
  let last: boolean | undefined;
  const tick = () => {
    const ready = isReady();
    if (ready === last) return;
    last = ready;
    send({ pg: 'ready', ready } satisfies ReadyReport);
  };
  tick();
  const timer = setInterval(tick, everyMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    if (last !== false) send({ pg: 'ready', ready: false } satisfies ReadyReport);
    last = false;
  };
}

function send(m: Ask | ReadyReport, onError?: (e: Error) => void): void {
  // The channel closes when the primary is gone; the question then fails instead of hanging.
  if (!process.send || !process.connected) { onError?.(new Error('no IPC channel to the primary')); return; }
  process.send(m, undefined, {}, (e: Error | null) => { if (e) onError?.(e); });
}
