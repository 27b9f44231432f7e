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
  return {
    refused(ev) {
      opts.onRecorded?.(ev.reason);
      const p = recorder.record(ev).catch((e: unknown) => {
        opts.onWriteFailed?.();
        log.warn({ reason: ev.reason, err: { name: (e as Error)?.name } }, 'access denial not recorded');
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
