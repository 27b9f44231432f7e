// The recipients index, checked against the entries (issue 15 item 5; RULES 12, 48). The index
// decides who gets a withdrawal notice, so a deleted or altered record is tampering or loss:
// `verify` recomputes every record from the entries it scans and reports the drift, naming the
// subjectRef (never a user id); `log rebuild-recipients` writes the recomputed record back.
//
// Appends go on meanwhile. The append script adds to a subject's record and to its index list
// (`bySubject`, the log's stream ids) in one atomic call, so a record read together with
// the last id of that list (one script) is exactly what the entries up to that id determine. When
// that id lies past what the tally has scanned, the tally first catches up on the log's tail and
// the subject is read again. A rebuild writes with the same condition inside one Lua call (the
// record is replaced only if no entry of that subject was appended past the scanned tail), so an
// append is never lost to a rewrite; retention is kept out by the trim lock (rebuild-recipients.ts).
import { createHash } from 'node:crypto';
import type { Redis } from '../deps.ts';
import type { ChainKeys, LogKeys } from './keys.ts';
import { scanStream } from './scan.ts';
import { compareStreamIds } from '../redis/stream-id.ts';
import type { LogTopology } from './topology.ts';
import { RecipientsTally } from './recipients-tally.ts';
import { hashArgs, parseParts, reconcile, type RecipientsDrift, type RecordParts } from './recipients-reconcile.ts';

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
// Subjects per Lua call: few round trips (each call holds Redis, and so the appends, a few ms).
const BATCH = 500;
const ATTEMPTS = 5;

// KEYS: 1 record, 2 the subject's index list. ARGV: 1-2 the scanned tail (ms, seq), then field,
// value pairs. Replaces the record only if no entry of this subject lies past the scanned tail.
const REWRITE_LUA = `
local top = redis.call('LINDEX', KEYS[2], -1)
if top then
  local ms, sq = string.match(top, '^(%d+)-(%d+)$')
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
const after = (a: string, b: string) => compareStreamIds(a, b) > 0;
const globEscape = (s: string) => s.replace(/[*?[\]\\]/g, '\\$&');

async function catchUp(redis: Redis, keys: ChainKeys, tally: RecipientsTally): Promise<void> {
  for await (const raw of scanStream(redis, keys.entries, { direction: 'asc', min: `(${tally.last}` })) tally.feed(raw);
}

// KEYS: record, index list, record, index list, ... Each record (flat HGETALL) with the last id
// of its subject's index list, read atomically: one script, not a MULTI of two commands a
// subject (the client's per-command cost was most of a verify's time).
const SNAPSHOT_LUA = `
local out = {}
for i = 1, #KEYS, 2 do
  out[#out + 1] = redis.call('HGETALL', KEYS[i])
  out[#out + 1] = redis.call('LINDEX', KEYS[i + 1], -1) or ''
end
return out
`;

async function snapshot(redis: Redis, keys: ChainKeys, refs: string[]): Promise<Array<{ ref: string; hash: Record<string, string>; top: string | null }>> {
  const k: string[] = [];
  for (const ref of refs) k.push(keys.recipients(ref), keys.bySubject(ref));
  const replies = (await redis.eval(SNAPSHOT_LUA, { keys: k, arguments: [] })) as Array<string[] | string>;
  return refs.map((ref, n) => {
    const flat = (replies[2 * n] ?? []) as string[];
    const hash: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) hash[flat[i]!] = flat[i + 1]!;
    const top = replies[2 * n + 1] as string;
    return { ref, hash, top: top ? top : null };
  });
}

// KEYS: record, index list, ... For each subject: the last id of its index list, and a digest
// of its record (SHA-1 of the sorted "field\0value" lines; '' when there is none). Only records
// whose digest differs from the recomputed one travel back in full (snapshot), so a clean index
// costs the client two short strings a subject instead of every field of every record.
const DIGEST_LUA = `
local out = {}
for i = 1, #KEYS, 2 do
  out[#out + 1] = redis.call('LINDEX', KEYS[i + 1], -1) or ''
  local h = redis.call('HGETALL', KEYS[i])
  local f = {}
  for j = 1, #h, 2 do f[#f + 1] = h[j] .. '\\0' .. h[j + 1] end
  table.sort(f)
  out[#out + 1] = (#f == 0) and '' or redis.sha1hex(table.concat(f, '\\n'))
end
return out
`;

/** The same digest, of the record the entries determine (ids and codes are ASCII: one sort order). */
function digestOf(parts: RecordParts | undefined): string {
  if (!parts || parts.size === 0) return '';
  const a = hashArgs(parts);
  const lines: string[] = [];
  for (let i = 0; i < a.length; i += 2) lines.push(`${a[i]}\0${a[i + 1]}`);
  return createHash('sha1').update(lines.sort().join('\n')).digest('hex');
}

async function digests(redis: Redis, keys: ChainKeys, refs: string[]): Promise<Array<{ ref: string; top: string | null; digest: string }>> {
  const k: string[] = [];
  for (const ref of refs) k.push(keys.recipients(ref), keys.bySubject(ref));
  const replies = (await redis.eval(DIGEST_LUA, { keys: k, arguments: [] })) as string[];
  return refs.map((ref, n) => ({ ref, top: replies[2 * n] || null, digest: replies[2 * n + 1] ?? '' }));
}

/**
 * Compares (and with `repair`, rewrites) every record of every chain (issue [6/6] item 2: a
 * subject's record is kept per chain, in the chain's slot, so each is checked against that
 * chain's entries). `tallies` are the first pass, fed with the verified entries; a log too long
 * for one pass is checked in `parts` passes, each over the subjects of one partition, each
 * scanning the chain's entries again.
 */
export async function checkRecipients(redis: Redis, topology: Pick<LogTopology, 'forEachPrimary'>, keys: LogKeys, chains: readonly string[],
  tallies: Map<string, RecipientsTally>, o: { trimmed: boolean; repair: boolean }): Promise<RecipientsReport> {
  const report: RecipientsReport = { ok: true, subjects: 0, trimmed: o.trimmed, driftCount: 0, drift: [], ...(o.repair ? { repaired: 0 } : {}) };
  let unsettled = 0;
  for (const chain of chains) {
    const ck = keys.chain(chain);
    const tally = tallies.get(chain) ?? new RecipientsTally();
    const records = await recordsOf(topology, keys.recipientsPrefix(chain));
    for (let part = 0; part < tally.parts; part++) {
      let t = tally;
      if (part > 0) {
        t = new RecipientsTally(part, tally.parts);
        for await (const raw of scanStream(redis, ck.entries, { direction: 'asc' })) t.feed(raw);
      }
      unsettled += await comparePass(redis, ck, t, records.filter((r) => t.holds(r)), o, report);
    }
  }
  // A rebuild that rewrote every drifting record leaves the index matching the entries.
  report.ok = o.repair ? unsettled === 0 : report.driftCount === 0;
  return report;
}

/** The subjectRefs with a record on this chain, from every primary (SCAN is node-level, topology.ts). */
async function recordsOf(topology: Pick<LogTopology, 'forEachPrimary'>, prefix: string): Promise<string[]> {
  const found = await topology.forEachPrimary(async (node) => {
    const refs: string[] = [];
    for await (const batch of node.scanIterator({ MATCH: `${globEscape(prefix)}*`, COUNT: 1000 })) {
      for (const key of batch as unknown as string[]) refs.push(key.slice(prefix.length));
    }
    return refs;
  });
  return [...new Set(found.flat())];
}

/** One partition's records; returns how many stayed unsettled. */
async function comparePass(redis: Redis, keys: ChainKeys, tally: RecipientsTally, records: string[], o: { trimmed: boolean; repair: boolean }, report: RecipientsReport): Promise<number> {
  // Records of subjects with no entry at all are drift too (a notice would reach a partner that received nothing).
  const refs = new Set([...tally.subjects.keys(), ...records]);
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
      const suspect: string[] = [];
      for (const d of await digests(redis, keys, todo)) {
        if (!last && d.top !== null && after(d.top, tally.last)) moved.push(d.ref);
        else if (d.digest !== digestOf(tally.record(d.ref))) suspect.push(d.ref); // else: exactly what the entries say
      }
      for (const s of suspect.length > 0 ? await snapshot(redis, keys, suspect) : []) {
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
