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
import { scanStream } from './scan.ts';
import { RecipientsTally } from './recipients-tally.ts';
import { hashArgs, parseParts, reconcile, type RecipientsDrift } from './recipients-reconcile.ts';

export interface RecipientsReport {
  ok: boolean;
  /** Records compared (every subject with entries or with a record). */
  subjects: number;
  /** A retention trim removed entries: some of the index is then not checkable (recipients-reconcile.ts). */
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
