// The audit page's filter and read (issue 16 page 8): action (a prefix, e.g. `partners.` or
// `console.`), actor (a token or staff id, or a console user's name) and a UTC time range, read
// newest first through the admin audit's own reader (auth/admin-audit.ts readAudit) a batch at a
// time. The stream has no index by action or actor, so one page reads at most SCAN_LIMIT entries:
// when fewer match, the page says so and its cursor carries on from where the read stopped.
import type { FieldError } from '../http/problem.ts';
import type { AuditEntry } from '../auth/admin-audit.ts';

export interface AuditFilter { action?: string; actor?: string; fromMs?: number; toMs?: number }
export interface ParsedAuditFilter { filter: AuditFilter; errors: FieldError[]; form: Record<string, string> }

export type ReadAudit = (limit: number, cursor?: string) => Promise<{ items: AuditEntry[]; nextCursor: string | null }>;

const ACTION = /^[A-Za-z0-9_.:-]{1,100}$/;
const LOCAL_MINUTES = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?$/;
const BATCH = 200;
export const SCAN_LIMIT = 5000;

function utcMs(v: string): number {
  return LOCAL_MINUTES.test(v) ? Date.parse(`${v}${v.length === 16 ? ':00' : ''}Z`) : NaN;
}

export function parseAuditFilter(query: unknown): ParsedAuditFilter {
  const q = (query ?? {}) as Record<string, unknown>;
  const form: Record<string, string> = {};
  const filter: AuditFilter = {};
  const errors: FieldError[] = [];
  for (const k of ['action', 'actor', 'from', 'to'] as const) {
    const v = q[k];
    if (typeof v === 'string' && v.trim() !== '') form[k] = v.trim();
  }
  if (form.action !== undefined) {
    if (ACTION.test(form.action)) filter.action = form.action;
    else errors.push({ field: 'action', reason: 'must be an action name or its start (letters, digits, . _ : -), at most 100 characters' });
  }
  if (form.actor !== undefined) {
    if (form.actor.length <= 200) filter.actor = form.actor;
    else errors.push({ field: 'actor', reason: 'at most 200 characters' });
  }
  for (const k of ['from', 'to'] as const) {
    if (form[k] === undefined) continue;
    const ms = utcMs(form[k]);
    if (Number.isNaN(ms)) errors.push({ field: k, reason: 'must be a date and time (UTC), e.g. 2026-11-27T09:30' });
    else filter[k === 'from' ? 'fromMs' : 'toMs'] = k === 'to' && form[k].length === 16 ? ms + 59_999 : ms;
  }
  if (filter.fromMs !== undefined && filter.toMs !== undefined && filter.fromMs > filter.toMs) errors.push({ field: 'to', reason: 'must not be before from' });
  return { filter, errors, form };
}

/** A console action names its staff in `after` (console-audit.ts); an API action only its token. */
const staffOf = (e: AuditEntry) => (e.after as { staff?: { id?: unknown; name?: unknown } } | null)?.staff;

export function auditMatches(f: AuditFilter, e: AuditEntry): boolean {
  if (f.action !== undefined && !e.action.startsWith(f.action)) return false;
  if (f.actor !== undefined) {
    const st = staffOf(e);
    const a = f.actor.toLowerCase();
    if (e.actor.tokenId !== f.actor && st?.id !== f.actor && (typeof st?.name !== 'string' || st.name.toLowerCase() !== a)) return false;
  }
  const at = Date.parse(e.at);
  if (f.fromMs !== undefined && !(at >= f.fromMs)) return false;
  if (f.toMs !== undefined && !(at <= f.toMs)) return false;
  return true;
}

// The stream id is Redis's clock and `at` the gateway's: they may differ by a little, so the read
// starts and stops a minute beyond the range and `at` decides.
const SLACK_MS = 60_000;

/**
 * Up to `limit` matching entries, newest first, from the stream position `after` (exclusive) or
 * from `to`. `next` is where to carry on (null: nothing older can match); `scanned` how many were read.
 */
export async function readAuditPage(read: ReadAudit, f: AuditFilter, limit: number, after: string | null): Promise<{ items: AuditEntry[]; next: string | null; scanned: number }> {
  let cursor = after ?? (f.toMs !== undefined ? `${f.toMs + SLACK_MS + 1}-0` : undefined);
  const items: AuditEntry[] = [];
  let scanned = 0;
  for (;;) {
    const page = await read(Math.min(BATCH, SCAN_LIMIT - scanned), cursor);
    for (const e of page.items) {
      scanned++;
      cursor = e.id;
      if (f.fromMs !== undefined && Number(e.id.split('-')[0]) < f.fromMs - SLACK_MS) return { items, next: null, scanned };
      if (auditMatches(f, e)) items.push(e);
      if (items.length === limit) return { items, next: page.nextCursor === null && e === page.items.at(-1) ? null : e.id, scanned };
    }
    if (page.nextCursor === null) return { items, next: null, scanned };
    if (scanned >= SCAN_LIMIT) return { items, next: cursor ?? null, scanned };
  }
}
