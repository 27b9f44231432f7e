// The access-denial record as the app uses it (RULES 48): hooks call `refused(...)`, which never
// delays nor fails the refusal it records (a flood must not queue behind Redis); a write that
// fails is counted in a metric and logged without its inputs. Auditors read it through `page`.
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

export function createAccessDenials(redis: DenialRedis & DenialReadRedis, log: Logger, opts: RecorderOptions & { onWriteFailed?: () => void; onRecorded?: (reason: string) => void }): AccessDenials {
  const recorder = new AccessDenialRecorder(redis, opts);
  const pending = new Set<Promise<void>>();
  // A flood during a Redis outage would log once per refusal: say it when it starts and when it ends.
  let failing = false;
  return {
    refused(ev) {
      opts.onRecorded?.(ev.reason);
      const p = recorder.record(ev).then(() => {
        if (failing) log.info('access denials recorded again');
        failing = false;
      }, (e: unknown) => {
        opts.onWriteFailed?.();
        if (!failing) log.warn({ reason: ev.reason, err: { name: (e as Error)?.name } }, 'access denials not recorded (gateway_access_denials_unrecorded_total counts them)');
        failing = true;
      });
      pending.add(p);
      void p.finally(() => pending.delete(p));
    },
    async settled() {
      await Promise.all([...pending]);
    },
    page: (f, o) => denialPage(redis, f, o),
  };
}

export type { DenialEvent, DenialFilter, DenialRow };
export { DENIAL_REASONS, isDenialReason, type DenialReason } from './reasons.ts';
