// The access-denial record as the app uses it (RULES 48): hooks call `refused(...)`, which never
// delays nor fails the refusal it records (a flood must not queue behind Redis): refusals are
// coalesced in memory and written every FLUSH_MS, one write at a time; refusals whose write fails
// are counted in a metric and logged without their inputs. Auditors read it through `page`.
import type { Logger } from '../log.ts';
import { AccessDenialRecorder, type DenialEvent, type DenialRedis, type RecorderOptions } from './record.ts';
import { denialPage, type DenialFilter, type DenialReadRedis, type DenialRow } from './query.ts';

export interface AccessDenials {
  /** Fire and forget: record one refusal. */
  refused(ev: DenialEvent): void;
  /** Resolves once every refusal recorded so far is written (tests, shutdown). */
  settled(): Promise<void>;
  page(f: DenialFilter, opts: { limit: number; startDay?: string | null }): Promise<{ items: DenialRow[]; nextDay: string | null }>;
}

const FLUSH_MS = 200;

export function createAccessDenials(redis: DenialRedis & DenialReadRedis, log: Logger, opts: RecorderOptions & { onWriteFailed?: (refusals: number) => void; onRecorded?: (reason: string) => void; flushMs?: number }): AccessDenials {
  const recorder = new AccessDenialRecorder(redis, opts);
  let writing: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | null = null;
  // A flood during a Redis outage would log once per refusal: say it when it starts and when it ends.
  let failing = false;
  // One write at a time, after the previous one: memory holds one buffer, Redis sees one batch.
  const flush = () => {
    timer = null;
    writing = writing.then(() => recorder.flush()).then(({ lost, error }) => {
      if (!lost) {
        if (failing) log.info('access denials recorded again');
        failing = false;
        return;
      }
      opts.onWriteFailed?.(lost);
      if (!failing) log.warn({ err: { name: (error as Error)?.name } }, 'access denials not recorded (gateway_access_denials_unrecorded_total counts them)');
      failing = true;
    });
    return writing;
  };
  return {
    refused(ev) {
      opts.onRecorded?.(ev.reason);
      recorder.add(ev);
      timer ??= setTimeout(flush, opts.flushMs ?? FLUSH_MS).unref();
    },
    async settled() {
      if (timer) clearTimeout(timer);
      await flush();
    },
    page: (f, o) => denialPage(redis, f, o),
  };
}

export type { DenialEvent, DenialFilter, DenialRow };
export { DENIAL_REASONS, isDenialReason, type DenialReason } from './reasons.ts';
