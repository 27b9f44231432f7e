// Query filters (CONTRACT 5): partnerId, purpose, decision, subject (a user id, turned into its
// subjectRef here on the server), time range [from, to). Picks the narrowest stream to read in
// each chain: the subject's index, else the chain's entries (issue [5/6] item 3: there is no
// partner index any more; a partner's entries are found by filtering, which the id bounds of the
// time range and maxScan keep bounded, so no append pays for an index write per entry).
import { validationFailed, type FieldError } from '../http/problem.ts';
import { isPurpose } from '../policy/taxonomy.ts';
import type { TransferEntry } from './entry.ts';
import type { ChainKeys } from './keys.ts';
import type { SubjectRefFn } from './subject-ref.ts';

export interface TransferFilter {
  partnerId?: string;
  purpose?: string;
  decision?: string;
  /** A user id; never stored, only its subjectRef is compared. */
  subject?: string;
  /** ISO date-times; `from` inclusive, `to` exclusive, compared with the entry's `at`. */
  from?: string;
  to?: string;
}

export interface CompiledFilter {
  /** Stream to read in a chain; its ids are the entries' ids in that chain's entries stream. */
  source(keys: ChainKeys): string;
  /** true when `source` is a subject's index list (entries are looked up by id). */
  indexed: boolean;
  /** Stream-id bounds (inclusive) wide enough for the time range. */
  min: string;
  max: string;
  match(e: TransferEntry): boolean;
}

// Redis stamps the stream id a moment after the writer stamps `at` (clock skew between hosts
// included); the id bounds are widened by this much and `at` decides exactly.
const SLACK_MS = 5 * 60_000;
const ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function compileFilter(f: TransferFilter, subjectRef: SubjectRefFn): CompiledFilter {
  const errors: FieldError[] = [];
  const time = (name: 'from' | 'to') => {
    const v = f[name];
    if (v === undefined) return undefined;
    const ms = Date.parse(v);
    if (!/^\d{4}-\d\d-\d\dT/.test(v) || Number.isNaN(ms)) errors.push({ field: name, reason: 'must be an ISO 8601 date-time' });
    return ms;
  };
  const fromMs = time('from');
  const toMs = time('to');
  if (f.partnerId !== undefined && !ID.test(f.partnerId)) errors.push({ field: 'partnerId', reason: 'must be a partner id' });
  if (f.purpose !== undefined && !isPurpose(f.purpose)) errors.push({ field: 'purpose', reason: 'unknown purpose' });
  if (f.decision !== undefined && f.decision !== 'released' && f.decision !== 'denied') errors.push({ field: 'decision', reason: 'must be released or denied' });
  if (f.subject !== undefined && (f.subject.length === 0 || f.subject.length > 256)) errors.push({ field: 'subject', reason: 'must be a user id' });
  if (errors.length) throw validationFailed(errors);

  const ref = f.subject !== undefined ? subjectRef(f.subject) : undefined;
  return {
    source: (k) => (ref ? k.bySubject(ref) : k.entries),
    indexed: ref !== undefined,
    min: fromMs === undefined ? '-' : String(Math.max(0, fromMs - SLACK_MS)),
    max: toMs === undefined ? '+' : String(toMs + SLACK_MS),
    match: (e) => {
      if (ref !== undefined && e.subjectRef !== ref) return false;
      if (f.partnerId !== undefined && e.partnerId !== f.partnerId) return false;
      if (f.purpose !== undefined && e.purpose !== f.purpose) return false;
      if (f.decision !== undefined && e.decision !== f.decision) return false;
      const at = Date.parse(e.at);
      return (fromMs === undefined || at >= fromMs) && (toMs === undefined || at < toMs);
    },
  };
}
