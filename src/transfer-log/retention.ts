// The scheduled retention job (issue 5, RULES 49): keep transfer log entries at least
// `retention.transferLogDays`, by default the user-data retention (afterTerminationDays, 1,095)
// plus the longest agreement term, since a partner may hold data that long and the log is the
// evidence of what it got. When that term is unknown the job keeps everything (retention errs long).
import type { Config } from '../config/schema.ts';
import { trimBefore, TRIM_LOCK_MS, type TrimDeps, type TrimResult } from './trim.ts';
import { deadline } from './deadline.ts';

const DAY_MS = 86_400_000;

export interface RetentionOptions extends TrimDeps {
  config: Pick<Config, 'retention'>;
  /** The longest term of any agreement, in days (agreements module); null when unknown. */
  longestAgreementTermDays?: () => Promise<number | null>;
  intervalMs: number;
  now?: () => number;
}

export async function retentionDays(o: Pick<RetentionOptions, 'config' | 'longestAgreementTermDays'>): Promise<number | null> {
  const configured = o.config.retention.transferLogDays;
  if (configured !== null) return configured;
  const term = (await o.longestAgreementTermDays?.()) ?? null;
  return term === null ? null : o.config.retention.afterTerminationDays + term;
}

export async function runRetention(o: RetentionOptions): Promise<TrimResult> {
  const days = await retentionDays(o);
  if (days === null) return { removed: 0, skipped: 'retention period unknown (no transferLogDays, no agreement term)' };
  return trimBefore(o, (o.now?.() ?? Date.now()) - days * DAY_MS);
}

/** Runs the job every `intervalMs`; the timer never keeps the process alive. */
export function scheduleRetention(o: RetentionOptions): { stop(): void } {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    // The trim lock lapses after 15 minutes; a run stuck on a hanging Redis gives up by then too.
    deadline(runRetention(o), TRIM_LOCK_MS)
      .then((r) => { if ('skipped' in r) o.log.info({ why: r.skipped }, 'transfer log retention skipped'); })
      .catch((e: Error) => o.log.warn({ err: { message: e.message } }, 'transfer log retention failed; will retry'))
      .finally(() => { running = false; });
  }, o.intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
