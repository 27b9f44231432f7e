// What the transfer log reports to operations (issue 16, deploy/monitoring/): how long each append
// took and how it ended, and each verify's result. A narrow interface, so the log does not know
// prom-client; deps.ts connects it to the metrics. Outcomes are fixed words, never entry content.
import type { VerifyResult } from './verify.ts';

/** durable: released may follow; audit_unavailable: CONTRACT 6 step 11, nothing released; invalid: refused input. */
export type AppendOutcome = 'durable' | 'audit_unavailable' | 'invalid';
/** broken: a chain, checkpoint or anchor does not hold; recipients_drift: the index disagrees with the entries. */
export type VerifyOutcome = 'ok' | 'broken' | 'recipients_drift' | 'error';

export interface TransferLogObserver {
  appended(outcome: AppendOutcome, seconds: number): void;
  verified(outcome: VerifyOutcome): void;
}

const outcomeOf = (e: unknown): AppendOutcome =>
  (e as { code?: unknown } | null)?.code === 'audit_unavailable' ? 'audit_unavailable' : 'invalid';

/** Times one append call as its caller waits for it (a bulk page's appendMany counts once). */
export async function timedAppend<T>(obs: TransferLogObserver | undefined, run: () => Promise<T>): Promise<T> {
  if (!obs) return run();
  const start = performance.now();
  const seconds = () => (performance.now() - start) / 1000;
  try {
    const r = await run();
    obs.appended('durable', seconds());
    return r;
  } catch (e) {
    obs.appended(outcomeOf(e), seconds());
    throw e;
  }
}

/** A verify run's outcome; a run that throws (Redis down) is `error`, not a broken log. */
export async function observedVerify(obs: TransferLogObserver | undefined, run: () => Promise<VerifyResult>): Promise<VerifyResult> {
  let r: VerifyResult;
  try {
    r = await run();
  } catch (e) {
    obs?.verified('error');
    throw e;
  }
  obs?.verified(r.ok ? 'ok' : r.brokenAt ? 'broken' : 'recipients_drift');
  return r;
}
