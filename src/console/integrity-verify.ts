// The console's verify run (issue 16 page 4): the log's own verify through the same single-flight
// VerifyRunner as GET /admin/v1/transfers/verify, started by a button and watched by polling a
// status fragment. The console holds no request open while it runs, so the runner's time budget
// is set beyond any run (no 503 to retry, no cached result): a second press while a run goes on
// joins it, a press after it ends starts a fresh one. Progress (chains done / total) comes from
// verify's onProgress, which never changes the result. State is this instance's: with several
// instances, a poll that reaches another one shows that instance's last run.
import type { VerifyProgress, VerifyResult } from '../transfer-log/index.ts';
import { VerifyRunner, type VerifyOutcome } from '../http/verify-budget.ts';

// setTimeout's longest delay (~24.8 days): the budget only bounds how long run() waits.
const NO_BUDGET = 2 ** 31 - 1;

export type VerifyFn = (o: { onProgress: (p: VerifyProgress) => void }) => Promise<VerifyResult>;

export interface VerifyRunState {
  running: { startedAt: string; by: string; progress: VerifyProgress | null } | null;
  last: { startedAt: string; finishedAt: string; by: string; result: VerifyResult | null } | null;
}

export class ConsoleVerifyRuns {
  private readonly runner: VerifyRunner;
  private progress: VerifyProgress | null = null;
  private running: VerifyRunState['running'] = null;
  private last: VerifyRunState['last'] = null;

  constructor(verify: VerifyFn, private readonly now: () => number = Date.now) {
    this.runner = new VerifyRunner(() => verify({ onProgress: (p) => { this.progress = p; } }), { budgetMs: NO_BUDGET, keepMs: 0 });
  }

  /**
   * Starts a run for `by` (a staff name), or joins the one going on (false). `done` is told the
   * result (null: the run failed, e.g. Redis away) once it ends.
   */
  start(by: string, done: (r: VerifyResult | null) => void): boolean {
    if (this.running) return false;
    this.progress = null;
    const startedAt = new Date(this.now()).toISOString();
    this.running = { startedAt, by, progress: null };
    const finish = (out: VerifyOutcome | null) => {
      this.last = { startedAt, finishedAt: new Date(this.now()).toISOString(), by, result: out?.result ?? null };
      this.running = null;
      done(this.last.result);
    };
    this.runner.run().then(finish, () => finish(null));
    return true;
  }

  state(): VerifyRunState {
    return { running: this.running ? { ...this.running, progress: this.progress } : null, last: this.last };
  }
}
