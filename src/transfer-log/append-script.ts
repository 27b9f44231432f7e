// One Lua call appends a whole batch (one writer, one chain): the entries, the chain head, the
// index streams and the DSAR recipients index. Redis runs it without interleaving and replies
// after fsyncing the AOF (appendfsync always), so a returned append is durable (issue 5). Should
// a command fail midway (tampered keys), what was written is a prefix of the batch, and each
// entry moves its chain head with it, so the chain still verifies; the writer then starts anew.
// Issue [3/6] item 1: the batch's signed checkpoint goes in first, in the same call, so no entry
// is ever stored without the signature that covers it (a batch cut short by a failure leaves a
// signature claiming more than is there, which verify reports: never an unsigned tail).
import { createHash } from 'node:crypto';
import type { Redis } from '../deps.ts';
import type { TransferEntry } from './entry.ts';
import type { LogKeys } from './keys.ts';
import { recipientFacets } from './recipients.ts';

// KEYS: 1 entries, 2 heads, 3 checkpoints, then per entry: subject index, partner index,
// recipients (the heads key stands in when the entry has no subject / partner). ARGV: the batch
// checkpoint (JWS), then FIELDS values per entry. Returns the entries' stream ids, then the checkpoint's.
const FIELDS = 9;
export const APPEND_LUA = `
local out = {}
local cp = redis.call('XADD', KEYS[3], '*', 'jws', ARGV[1])
local n = (#ARGV - 1) / ${FIELDS}
for i = 0, n - 1 do
  local a = 1 + i * ${FIELDS}
  local json, chain, seq, hash = ARGV[a+1], ARGV[a+2], ARGV[a+3], ARGV[a+4]
  local subject, partner, released, at, facets = ARGV[a+5], ARGV[a+6], ARGV[a+7], ARGV[a+8], ARGV[a+9]
  local k = 4 + i * 3
  local id = redis.call('XADD', KEYS[1], '*', 'e', json)
  redis.call('HSET', KEYS[2], chain, seq .. ':' .. hash)
  if subject ~= '' then redis.call('XADD', KEYS[k], id, 'c', chain) end
  if partner ~= '' then redis.call('XADD', KEYS[k+1], id, 'c', chain) end
  if released == '1' and subject ~= '' and partner ~= '' then
    -- Three calls per release, whatever the number of categories (the bench counted ~15).
    local r, p = KEYS[k+2], partner .. '\\31'
    redis.call('HINCRBY', r, p .. 'count', 1)
    local fl = redis.call('HMGET', r, p .. 'first', p .. 'last')
    local set = {}
    if (not fl[1]) or at < fl[1] then set[#set + 1] = p .. 'first'; set[#set + 1] = at end
    if (not fl[2]) or at > fl[2] then set[#set + 1] = p .. 'last'; set[#set + 1] = at end
    for f in string.gmatch(facets, '[^,]+') do set[#set + 1] = p .. f; set[#set + 1] = '1' end
    if #set > 0 then redis.call('HSET', r, unpack(set)) end
  end
  out[#out + 1] = id
end
out[#out + 1] = cp
return out
`;
const SHA = createHash('sha1').update(APPEND_LUA).digest('hex');

/** Recipients facets (recipients.ts defines them and reads them back). */
const facets = (e: TransferEntry) => recipientFacets(e).join(',');

export function scriptArgs(keys: LogKeys, batch: TransferEntry[], checkpointJws: string): { keys: string[]; args: string[] } {
  const k = [keys.entries, keys.heads, keys.checkpoints];
  const a: string[] = [checkpointJws];
  for (const e of batch) {
    // Unused slots still name a key in the same slot, so the call stays cluster-correct.
    k.push(e.subjectRef ? keys.bySubject(e.subjectRef) : keys.heads,
      e.partnerId ? keys.byPartner(e.partnerId) : keys.heads,
      e.subjectRef ? keys.recipients(e.subjectRef) : keys.heads);
    a.push(JSON.stringify(e), e.chain, String(e.seq), e.hash, e.subjectRef ?? '', e.partnerId ?? '',
      e.decision === 'released' ? '1' : '0', e.at, facets(e));
  }
  return { keys: k, args: a };
}

/**
 * EVALSHA, loading the script on NOSCRIPT (a restarted Redis forgets it; nothing ran then).
 * Resolves to the entries' stream ids followed by the batch checkpoint's.
 */
export async function runAppend(redis: Redis, keys: LogKeys, batch: TransferEntry[], checkpointJws: string): Promise<string[]> {
  const { keys: k, args } = scriptArgs(keys, batch, checkpointJws);
  // Issue 18: evalSha/eval command methods, not sendCommand, so cluster mode routes the script to
  // the primary owning its keys (one hash tag: a single-slot script).
  try {
    return (await redis.evalSha(SHA, { keys: k, arguments: args })) as string[];
  } catch (e) {
    if (!(e instanceof Error) || !e.message.startsWith('NOSCRIPT')) throw e;
    return (await redis.eval(APPEND_LUA, { keys: k, arguments: args })) as string[];
  }
}
