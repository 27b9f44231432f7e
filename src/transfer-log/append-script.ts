// One Lua call appends a whole batch (one writer, one chain): the entries, the chain head, the
// chain's subject index (a list of the entries' ids) and its DSAR recipients records. Every key is in the chain's own hash tag
// (keys.ts), so the call is single-slot on a cluster. Redis runs it without interleaving and
// replies after fsyncing the AOF (appendfsync always), so a returned append is durable (issue 5).
// Issue [3/6] item 1: the batch's signed checkpoint goes in first, in the same call, so no entry
// is ever stored without the signature that covers it.
// Issue [5/6] item 3 / [6/6] item 2 (Redis per entry): the head moves once per batch, after the
// entries (so a call cut short midway by a tampered index key still leaves entries and head in
// step); the partner index is gone (partner queries filter the chains' entries at read time);
// and the call refuses to run unless the head is the one this batch continues, so a chain closed
// by an end statement (seam.ts) or forked never takes another entry.
import { createHash } from 'node:crypto';
import type { Redis } from '../deps.ts';
import type { TransferEntry } from './entry.ts';
import type { ChainKeys } from './keys.ts';
import { recipientFacets } from './recipients.ts';

/** The plain command methods the append uses (portable over single, sentinel and cluster clients). */
export type AppendRedis = Pick<Redis, 'evalSha' | 'eval'>;

// KEYS: 1 entries, 2 head, 3 checkpoints, then per entry: subject index, recipients (the head key
// stands in when the entry has no subject). ARGV: 1 the batch checkpoint (JWS), 2 the head this
// batch continues ('' for a new chain), 3 the head after it, then FIELDS values per entry.
// Returns the entries' stream ids, then the checkpoint's.
const FIELDS = 6;
export const APPEND_LUA = `
if (redis.call('GET', KEYS[2]) or '') ~= ARGV[2] then
  return redis.error_reply('TLOGHEAD the chain head is not the one this batch continues')
end
local out = {}
local cp = redis.call('XADD', KEYS[3], '*', 'jws', ARGV[1])
local n = (#ARGV - 3) / ${FIELDS}
for i = 0, n - 1 do
  out[#out + 1] = redis.call('XADD', KEYS[1], '*', 'e', ARGV[4 + i * ${FIELDS}])
end
redis.call('SET', KEYS[2], ARGV[3])
for i = 0, n - 1 do
  local a = 4 + i * ${FIELDS}
  local subject, partner, released, at, facets = ARGV[a+1], ARGV[a+2], ARGV[a+3], ARGV[a+4], ARGV[a+5]
  local k = 4 + i * 2
  if subject ~= '' then redis.call('RPUSH', KEYS[k], out[i + 1]) end
  if released == '1' and subject ~= '' and partner ~= '' then
    -- Two calls per release: the count travels with the HSET (no HINCRBY of its own).
    local r, p = KEYS[k+1], partner .. '\\31'
    local fl = redis.call('HMGET', r, p .. 'count', p .. 'first', p .. 'last')
    local set = { p .. 'count', (tonumber(fl[1]) or 0) + 1 }
    if (not fl[2]) or at < fl[2] then set[#set + 1] = p .. 'first'; set[#set + 1] = at end
    if (not fl[3]) or at > fl[3] then set[#set + 1] = p .. 'last'; set[#set + 1] = at end
    for f in string.gmatch(facets, '[^,]+') do set[#set + 1] = p .. f; set[#set + 1] = '1' end
    redis.call('HSET', r, unpack(set))
  end
end
out[#out + 1] = cp
return out
`;
const SHA = createHash('sha1').update(APPEND_LUA).digest('hex');

/** Recipients facets (recipients.ts defines them and reads them back). */
const facets = (e: TransferEntry) => recipientFacets(e).join(',');

/** "seq:hash" as the head key holds it. */
export const headValue = (seq: number, hash: string) => `${seq}:${hash}`;

/** `texts`: each entry's stored JSON when the writer already has it (entry.ts sealEntryText). */
export function scriptArgs(keys: ChainKeys, batch: TransferEntry[], checkpointJws: string, texts?: readonly string[]): { keys: string[]; args: string[] } {
  const first = batch[0]!;
  const last = batch[batch.length - 1]!;
  const k = [keys.entries, keys.head, keys.checkpoints];
  const a: string[] = [checkpointJws, first.seq === 1 ? '' : headValue(first.seq - 1, first.prevHash), headValue(last.seq, last.hash)];
  for (const [i, e] of batch.entries()) {
    // Unused slots still name a key in the same slot, so the call stays cluster-correct.
    k.push(e.subjectRef ? keys.bySubject(e.subjectRef) : keys.head, e.subjectRef ? keys.recipients(e.subjectRef) : keys.head);
    a.push(texts?.[i] ?? JSON.stringify(e), e.subjectRef ?? '', e.partnerId ?? '', e.decision === 'released' ? '1' : '0', e.at, facets(e));
  }
  return { keys: k, args: a };
}

/**
 * EVALSHA, loading the script on NOSCRIPT (a restarted or promoted Redis forgets it; nothing ran
 * then). Plain command methods: a cluster client routes them by the first key (the chain's slot).
 * Resolves to the entries' stream ids followed by the batch checkpoint's.
 */
export async function runAppend(redis: AppendRedis, keys: ChainKeys, batch: TransferEntry[], checkpointJws: string, texts?: readonly string[]): Promise<string[]> {
  const { keys: k, args } = scriptArgs(keys, batch, checkpointJws, texts);
  const opts = { keys: k, arguments: args };
  try {
    return (await redis.evalSha(SHA, opts)) as string[];
  } catch (e) {
    if (!(e instanceof Error) || !e.message.startsWith('NOSCRIPT')) throw e;
    return (await redis.eval(APPEND_LUA, opts)) as string[];
  }
}
