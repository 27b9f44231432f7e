// The IPC messages between the serve primary and its workers (issue 17 item 2). Every message
// carries `pg` so it never mixes with prom-client's own aggregation messages on the same channel.
// They carry counts, states and metric text only: never a request's path, body or personal data.

/** Worker -> primary: this worker's own readiness changed (sent at start and on every change). */
export interface ReadyReport { pg: 'ready'; ready: boolean }
/** Worker -> primary: a question the worker that received /readyz or /metrics cannot answer alone. */
export interface Ask { pg: 'ask'; id: number; what: 'workers' | 'metrics' }
/** Primary -> worker: the answer to an Ask with the same id. */
export interface Answer { pg: 'answer'; id: number; workers?: { ready: number; total: number }; metrics?: string; error?: string }

export function isReadyReport(m: unknown): m is ReadyReport {
  return isPg(m) && m.pg === 'ready' && typeof (m as ReadyReport).ready === 'boolean';
}

export function isAsk(m: unknown): m is Ask {
  return isPg(m) && m.pg === 'ask' && Number.isInteger((m as Ask).id) && ((m as Ask).what === 'workers' || (m as Ask).what === 'metrics');
}

export function isAnswer(m: unknown): m is Answer {
  return isPg(m) && m.pg === 'answer' && Number.isInteger((m as Answer).id);
}

function isPg(m: unknown): m is { pg: string } {
  return typeof m === 'object' && m !== null && typeof (m as { pg?: unknown }).pg === 'string';
}
