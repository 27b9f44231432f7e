// The recipients index, checked against the entries (issue 15 item 5; RULES 12, 48). The index
// decides who gets a withdrawal notice, so a deleted or altered record is tampering or loss:
// `verify` recomputes every record from the entries it scans and reports the drift, naming the
// subjectRef (never a user id); `log rebuild-recipients` writes the recomputed record back.
//
// Appends go on meanwhile. The append script adds to a subject's record and to its index stream
// (`bySubject`, same stream ids as the log) in one atomic call, so a record read together with
// the last id of that stream (one MULTI) is exactly what the entries up to that id determine. When
// that id lies past what the tally has scanned, the tally first catches up on the log's tail and
// the subject is read again. A rebuild writes with the same condition inside one Lua call (the
// record is replaced only if no entry of that subject was appended past the scanned tail), so an
// append is never lost to a rewrite; retention is kept out by the trim lock (rebuild-recipients.ts).
import type { Redis } from '../deps.ts';
import type { LogKeys } from './keys.ts';
import { recipientFacets } from './recipients.ts';
import { parseEntry, scanStream, type RawEntry } from './scan.ts';

/** One partner's part of a record: what the append script keeps per partner. */
interface Part { count: number; first: string; last: string; facets: Set<string> }
type RecordParts = Map<string, Part>;

export type DriftProblem = 'missing_record' | 'missing_partner' | 'extra_partner' | 'count' | 'first' | 'last'
  | 'missing_facets' | 'extra_facets' | 'unsettled';

export interface RecipientsDrift {
  subjectRef: string;
  partnerId: string | null;
  problem: DriftProblem;
  expected?: string | number | string[];
  found?: string | number | string[];
}

export interface RecipientsReport {
  ok: boolean;
  /** Records compared (every subject with entries or with a record). */
  subjects: number;
  /** A retention trim removed entries: some of the index is then not checkable (see reconcile). */
  trimmed: boolean;
  driftCount: number;
  /** The first MAX_LISTED drift items. */
  drift: RecipientsDrift[];
  /** rebuild only: records rewritten. */
  repaired?: number;
}

const MAX_LISTED = 100;
const BATCH = 100;
const ATTEMPTS = 5;

/** One partner's releases to one subject; a verify holds one per (subject, partner), so it is small. */
interface Tallied { partnerId: string; count: number; firstMs: number; lastMs: number; facets: string }

/**
 * Recomputes every record from the entries, fed in stream order. Memory grows with the number of
 * (subject, partner) pairs in the log (about 250 bytes each): times as ms, and each distinct set
 * of facets held once and shared (entries' `at` are toISOString() values, input.ts).
 */
export class RecipientsTally {
  readonly subjects = new Map<string, Tallied[]>();
  /** Holds the subjects of partition `part` of `parts` only (one pass each; see recipientsTally). */
  constructor(readonly part = 0, readonly parts = 1) {}
  /** Stream id of the last entry fed ('0-0': none). */
  last = '0-0';
  /** The earliest `at` among the entries still in the log (ms; null: none). */
  oldestMs: number | null = null;
  private sets = new Map<string, string>();
  private merged = new Map<string, string>();

  feed(raw: RawEntry): void {
    this.last = raw.streamId;
    const e = parseEntry(raw);
    if (!e) return;
    const at = Date.parse(e.at);
    if (this.oldestMs === null || at < this.oldestMs) this.oldestMs = at;
    // Exactly what the append script indexes: released entries with a subject and a partner.
    if (e.decision !== 'released' || !e.subjectRef || !e.partnerId || !this.holds(e.subjectRef)) return;
    const facets = this.intern(recipientFacets(e).sort().join('\n'));
    const parts = this.subjects.get(e.subjectRef);
    const p = parts?.find((x) => x.partnerId === e.partnerId);
    if (!p) {
      const fresh: Tallied = { partnerId: this.intern(e.partnerId), count: 1, firstMs: at, lastMs: at, facets };
      // A one-element literal: an empty array grown by push reserves room for 16.
      if (parts) parts.push(fresh);
      else this.subjects.set(e.subjectRef, [fresh]);
      return;
    }
    p.count++;
    if (at < p.firstMs) p.firstMs = at;
    if (at > p.lastMs) p.lastMs = at;
    if (p.facets !== facets) p.facets = this.union(p.facets, facets);
  }

  /** The record the entries fed so far determine, in the shape reconcile compares. */
  record(subjectRef: string): RecordParts | undefined {
    const parts = this.subjects.get(subjectRef);
    if (!parts) return undefined;
    return new Map(parts.map((p) => [p.partnerId, {
      count: p.count, first: new Date(p.firstMs).toISOString(), last: new Date(p.lastMs).toISOString(), facets: new Set(p.facets.split('\n')),
    }]));
  }

  holds(subjectRef: string): boolean {
    return this.parts === 1 || partOf(subjectRef, this.parts) === this.part;
  }

  get oldestAt(): string | null { return this.oldestMs === null ? null : new Date(this.oldestMs).toISOString(); }

  private intern(s: string): string {
    const had = this.sets.get(s);
    if (had !== undefined) return had;
    this.sets.set(s, s);
    return s;
  }

  private union(a: string, b: string): string {
    const key = `${a}\t${b}`;
    let u = this.merged.get(key);
    if (u === undefined) {
      u = this.intern([...new Set([...a.split('\n'), ...b.split('\n')])].sort().join('\n'));
      if (this.merged.size > 10_000) this.merged.clear(); // a cache, not a record: bounded
      this.merged.set(key, u);
    }
    return u;
  }
}

// subjectRefs are HMAC outputs (base64url), so their first two characters spread evenly.
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
function partOf(subjectRef: string, parts: number): number {
  return (Math.max(0, B64URL.indexOf(subjectRef[0] ?? 'A')) * 64 + Math.max(0, B64URL.indexOf(subjectRef[1] ?? 'A'))) % parts;
}

/** Entries per pass: bounds a verify's memory to about 125 MB however long the log (250 B a pair). */
export const ENTRIES_PER_PASS = 500_000;

/** The first pass's tally, fed by verify's chain scan; checkRecipients runs any further passes itself. */
export async function recipientsTally(redis: Redis, keys: LogKeys, perPass = ENTRIES_PER_PASS): Promise<RecipientsTally> {
  return new RecipientsTally(0, Math.max(1, Math.ceil((await redis.xLen(keys.entries)) / perPass)));
}

function parseParts(hash: Record<string, string>): RecordParts {
  const parts: RecordParts = new Map();
  for (const [field, value] of Object.entries(hash)) {
    const cut = field.indexOf('\x1f');
    if (cut <= 0) continue;
    const partner = field.slice(0, cut);
    const kind = field.slice(cut + 1);
    let p = parts.get(partner);
    if (!p) parts.set(partner, (p = { count: 0, first: '', last: '', facets: new Set() }));
    if (kind === 'count') p.count = Number(value);
    else if (kind === 'first') p.first = value;
    else if (kind === 'last') p.last = value;
    else p.facets.add(kind);
  }
  return parts;
}

const shown = (facets: Iterable<string>) => [...facets].map((f) => f.replace('\x1f', ':')).sort();

interface Trim { trimmed: boolean; oldestAt: string | null }

/**
 * What the record should be, and how the stored one differs. Without a trim every value is exact.
 * After a trim, what the removed entries contributed is no longer checkable: the stored count may
 * exceed the remaining entries' count, `first` may precede theirs, and purposes, categories, key
 * versions and countries may be a superset; a partner whose releases were all removed has nothing
 * left to prove it (retention prunes it; until then it is kept if it is no newer than the oldest
 * remaining entry). `last` stays exact, and every release still in the log must be there.
 */
function reconcile(subjectRef: string, want: RecordParts | undefined, have: RecordParts, t: Trim): { drift: RecipientsDrift[]; target: RecordParts } {
  const drift: RecipientsDrift[] = [];
  const d = (partnerId: string | null, problem: DriftProblem, expected?: RecipientsDrift['expected'], found?: RecipientsDrift['found']) =>
    drift.push({ subjectRef, partnerId, problem, ...(expected !== undefined ? { expected } : {}), ...(found !== undefined ? { found } : {}) });
  const target: RecordParts = new Map();
  if (want && want.size > 0 && have.size === 0) d(null, 'missing_record', [...want.keys()].sort());
  for (const [partner, c] of want ?? []) {
    const i = have.get(partner);
    if (!i) {
      if (have.size > 0) d(partner, 'missing_partner', c.count);
      target.set(partner, c);
      continue;
    }
    const w: Part = t.trimmed
      ? { count: Math.max(i.count, c.count), first: i.first && i.first < c.first ? i.first : c.first, last: c.last, facets: new Set([...c.facets, ...i.facets]) }
      : c;
    if (i.count !== w.count) d(partner, 'count', w.count, i.count);
    if (i.first !== w.first) d(partner, 'first', w.first, i.first);
    if (i.last !== w.last) d(partner, 'last', w.last, i.last);
    const missing = [...w.facets].filter((f) => !i.facets.has(f));
    const extra = [...i.facets].filter((f) => !w.facets.has(f));
    if (missing.length) d(partner, 'missing_facets', shown(missing));
    if (extra.length) d(partner, 'extra_facets', undefined, shown(extra));
    target.set(partner, w);
  }
  for (const [partner, i] of have) {
    if (want?.has(partner)) continue;
    if (t.trimmed && (t.oldestAt === null || i.last <= t.oldestAt)) { target.set(partner, i); continue; }
    d(partner, 'extra_partner', undefined, i.count);
  }
  return { drift, target };
}

function hashArgs(parts: RecordParts): string[] {
  const a: string[] = [];
  for (const [p, v] of parts) {
    a.push(`${p}\x1fcount`, String(v.count), `${p}\x1ffirst`, v.first, `${p}\x1flast`, v.last);
    for (const f of v.facets) a.push(`${p}\x1f${f}`, '1');
  }
  return a;
}

// KEYS: 1 record, 2 the subject's index stream. ARGV: 1-2 the scanned tail (ms, seq), then field,
// value pairs. Replaces the record only if no entry of this subject lies past the scanned tail.
const REWRITE_LUA = `
local top = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
if #top > 0 then
  local ms, sq = string.match(top[1][1], '^(%d+)-(%d+)$')
  ms, sq = tonumber(ms), tonumber(sq)
  local pms, psq = tonumber(ARGV[1]), tonumber(ARGV[2])
  if ms > pms or (ms == pms and sq > psq) then return 0 end
end
redis.call('DEL', KEYS[1])
for i = 3, #ARGV, 1000 do
  redis.call('HSET', KEYS[1], unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
return 1
`;

const idParts = (id: string) => id.split('-').map(BigInt) as [bigint, bigint];
const after = (a: string, b: string) => { const [x, y] = [idParts(a), idParts(b)]; return x[0] > y[0] || (x[0] === y[0] && x[1] > y[1]); };
const globEscape = (s: string) => s.replace(/[*?[\]\\]/g, '\\$&');

async function catchUp(redis: Redis, keys: LogKeys, tally: RecipientsTally): Promise<void> {
  for await (const raw of scanStream(redis, keys.entries, { direction: 'asc', min: `(${tally.last}` })) tally.feed(raw);
}

/** Each record with the last id of its subject's index stream, read in one MULTI. */
async function snapshot(redis: Redis, keys: LogKeys, refs: string[]): Promise<Array<{ ref: string; hash: Record<string, string>; top: string | null }>> {
  const m = redis.multi();
  for (const ref of refs) m.hGetAll(keys.recipients(ref)).xRevRange(keys.bySubject(ref), '+', '-', { COUNT: 1 });
  const replies = (await m.exec()) as unknown[];
  return refs.map((ref, n) => ({
    ref,
    hash: (replies[2 * n] ?? {}) as Record<string, string>,
    top: ((replies[2 * n + 1] ?? []) as Array<{ id: string }>)[0]?.id ?? null,
  }));
}

/**
 * Compares (and with `repair`, rewrites) every record. `tally` is the first pass, fed with the
 * verified entries; a log too long for one pass is checked in `tally.parts` passes, each over the
 * subjects of one partition, each scanning the entries again.
 */
export async function checkRecipients(redis: Redis, keys: LogKeys, tally: RecipientsTally, o: { trimmed: boolean; repair: boolean }): Promise<RecipientsReport> {
  const report: RecipientsReport = { ok: true, subjects: 0, trimmed: o.trimmed, driftCount: 0, drift: [], ...(o.repair ? { repaired: 0 } : {}) };
  let unsettled = 0;
  for (let part = 0; part < tally.parts; part++) {
    let t = tally;
    if (part > 0) {
      t = new RecipientsTally(part, tally.parts);
      for await (const raw of scanStream(redis, keys.entries, { direction: 'asc' })) t.feed(raw);
    }
    unsettled += await comparePass(redis, keys, t, o, report);
  }
  // A rebuild that rewrote every drifting record leaves the index matching the entries.
  report.ok = o.repair ? unsettled === 0 : report.driftCount === 0;
  return report;
}

/** One partition's records; returns how many stayed unsettled. */
async function comparePass(redis: Redis, keys: LogKeys, tally: RecipientsTally, o: { trimmed: boolean; repair: boolean }, report: RecipientsReport): Promise<number> {
  const refs = new Set(tally.subjects.keys());
  // Records of subjects with no entry at all are drift too (a notice would reach a partner that received nothing).
  const prefix = keys.recipients('');
  for await (const batch of redis.scanIterator({ MATCH: `${globEscape(prefix)}*`, COUNT: 1000 })) {
    for (const key of batch as unknown as string[]) {
      const ref = key.slice(prefix.length);
      if (tally.holds(ref)) refs.add(ref);
    }
  }
  report.subjects += refs.size;
  const note = (items: RecipientsDrift[]) => {
    report.driftCount += items.length;
    for (const it of items) if (report.drift.length < MAX_LISTED) report.drift.push(it);
  };
  let unsettled = 0;
  const all = [...refs];
  for (let i = 0; i < all.length; i += BATCH) {
    let todo = all.slice(i, i + BATCH);
    for (let attempt = 1; todo.length > 0; attempt++) {
      const last = attempt === ATTEMPTS;
      const moved: string[] = [];
      for (const s of await snapshot(redis, keys, todo)) {
        // Entries of this subject past the scanned tail: catch up first. A subject appended to through
        // every attempt is compared as last read (verify may then report an append in flight as
        // drift; running it again tells) and a rebuild leaves it `unsettled`. Tail entries read by a
        // catch-up are not chain-checked here; the next verify checks them like every other entry.
        if (!last && s.top !== null && after(s.top, tally.last)) { moved.push(s.ref); continue; }
        const { drift, target } = reconcile(s.ref, tally.record(s.ref), parseParts(s.hash), { trimmed: o.trimmed, oldestAt: tally.oldestAt });
        if (drift.length === 0) continue;
        if (!o.repair) { note(drift); continue; }
        const [ms, sq] = idParts(tally.last);
        const written = await redis.eval(REWRITE_LUA, {
          keys: [keys.recipients(s.ref), keys.bySubject(s.ref)], arguments: [String(ms), String(sq), ...hashArgs(target)],
        });
        if (written === 1) { note(drift); report.repaired!++; }
        else if (last) { unsettled++; note([{ subjectRef: s.ref, partnerId: null, problem: 'unsettled' }]); }
        else moved.push(s.ref);
      }
      if (moved.length > 0) await catchUp(redis, keys, tally);
      todo = last ? [] : moved;
    }
  }
  return unsettled;
}
