// GET /admin/v1/transfers/verify runs over the whole log (CONTRACT 7): time grows with the log.
// Our call, instead of letting a request hang for as long as that takes:
// - one run at a time per instance (single flight): ten auditors pressing the button do not
//   make ten full scans of Redis, the store every release waits on (RULES 48: log before release);
// - a time budget per request (default 25 s, under common 30-60 s proxy timeouts): past it the
//   request gets 503 `verify_in_progress` with Retry-After while the run goes on, and the retry
//   joins it;
// - the result of a run that outlived the budget is kept briefly (default 60 s) so the retry
//   gets it even if the run ended between two retries; a run within budget is never cached, so
//   a fresh request always sees a fresh verification. `partner-gateway log verify` has no budget.
import type { VerifyResult } from '../transfer-log/index.ts';

export interface VerifyOutcome { result: VerifyResult; startedAt: Date }

export interface VerifyBudget { budgetMs?: number; keepMs?: number }

export class VerifyRunner {
  private running: Promise<VerifyOutcome> | null = null;
  private kept: { outcome: VerifyOutcome; until: number } | null = null;
  private readonly budgetMs: number;
  private readonly keepMs: number;

  constructor(private readonly verify: () => Promise<VerifyResult>, opts: VerifyBudget = {}) {
    this.budgetMs = opts.budgetMs ?? 25_000;
    this.keepMs = opts.keepMs ?? 60_000;
  }

  /** The outcome, or null when the run (which goes on) did not finish within the budget. */
  async run(): Promise<VerifyOutcome | null> {
    if (this.kept && Date.now() < this.kept.until) return this.kept.outcome;
    const run = (this.running ??= this.start());
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => { timer = setTimeout(() => resolve(null), this.budgetMs); });
    try {
      return await Promise.race([run, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private start(): Promise<VerifyOutcome> {
    const startedAt = new Date();
    const p = this.verify()
      .then((result) => {
        const outcome = { result, startedAt };
        if (Date.now() - startedAt.getTime() >= this.budgetMs) this.kept = { outcome, until: Date.now() + this.keepMs };
        return outcome;
      })
      .finally(() => { this.running = null; });
    p.catch(() => undefined); // a run nobody waits for any more must not become an unhandled rejection
    return p;
  }
}
