// DSAR recipients (CONTRACT 5): which partners received a user's data, for which purposes and
// categories, first and last time, how often. Read from the index the append script keeps (one
// hash per subjectRef), never from a scan. It holds partner ids and vocabulary codes only.
import type { Redis } from '../deps.ts';
import type { LogKeys } from './keys.ts';
import type { SubjectRefFn } from './subject-ref.ts';

export interface Recipient {
  partnerId: string;
  purposes: string[];
  categories: string[];
  firstAt: string;
  lastAt: string;
  count: number;
}

export async function recipientsOf(redis: Redis, keys: LogKeys, subjectRef: SubjectRefFn, userId: string): Promise<{ items: Recipient[] }> {
  return { items: parseRecipients(await redis.hGetAll(keys.recipients(subjectRef(userId)))) };
}

/** Fields are `<partner>\x1f<count|first|last>` and `<partner>\x1f<purpose|cat>\x1f<code>`. */
export function parseRecipients(hash: Record<string, string>): Recipient[] {
  const by = new Map<string, Recipient>();
  for (const [field, value] of Object.entries(hash)) {
    const [partnerId, kind, code] = field.split('\x1f');
    if (!partnerId || !kind) continue;
    let r = by.get(partnerId);
    if (!r) by.set(partnerId, (r = { partnerId, purposes: [], categories: [], firstAt: '', lastAt: '', count: 0 }));
    if (kind === 'count') r.count = Number(value);
    else if (kind === 'first') r.firstAt = value;
    else if (kind === 'last') r.lastAt = value;
    else if (kind === 'purpose' && code) r.purposes.push(code);
    else if (kind === 'cat' && code) r.categories.push(code);
  }
  return [...by.values()]
    .filter((r) => r.count > 0)
    .map((r) => ({ ...r, purposes: r.purposes.sort(), categories: r.categories.sort() }))
    .sort((a, b) => (a.partnerId < b.partnerId ? -1 : a.partnerId > b.partnerId ? 1 : 0));
}

// Atomic, so a release appended meanwhile (which moves `last`) is never deleted with the rest.
const PRUNE_LUA = `
local all = redis.call('HGETALL', KEYS[1])
local stale = {}
for i = 1, #all, 2 do
  local p, kind = string.match(all[i], '^(.-)\\31(.*)$')
  if kind == 'last' and all[i + 1] < ARGV[1] then stale[p] = true end
end
local n = 0
for i = 1, #all, 2 do
  local p = string.match(all[i], '^(.-)\\31')
  if p and stale[p] then redis.call('HDEL', KEYS[1], all[i]); n = n + 1 end
end
return n
`;

/** Retention: forget partners whose last release to this subject is older than the cutoff. */
export async function pruneRecipients(redis: Redis, keys: LogKeys, subjectRef: string, cutoffIso: string): Promise<void> {
  await redis.eval(PRUNE_LUA, { keys: [keys.recipients(subjectRef)], arguments: [cutoffIso] });
}
