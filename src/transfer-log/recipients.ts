// DSAR recipients (CONTRACT 5): which partners received a user's data, for which purposes and
// categories, first and last time, how often. Read from the index the append script keeps (one
// hash per subjectRef), never from a scan. It holds partner ids and vocabulary codes only.
// Since [3/6] it also keeps what the notices need to name the user as it was sent (RULES 12):
// the pseudonym key versions released under, and what went abroad under a cross-border basis.
// `verify` recomputes all of it from the entries (recipients-check.ts).
import type { Redis } from '../deps.ts';
import type { TransferEntry } from './entry.ts';
import type { ChainKeys, LogKeys } from './keys.ts';
import type { SubjectRefFn } from './subject-ref.ts';
import { listChains } from './chains.ts';

export interface Recipient {
  partnerId: string;
  purposes: string[];
  categories: string[];
  firstAt: string;
  lastAt: string;
  count: number;
  /** Pseudonym key versions this partner received the user under (RULES 29; empty: an index from before [3/6]). */
  keyVersions: Array<number | string>;
  /** Purposes released under a cross-border basis (adequacy or consent), and to which countries. */
  crossBorderPurposes: string[];
  crossBorderCountries: string[];
}

/**
 * The set-valued fields one release adds to its partner's part of the record, each stored as
 * `<partner>\x1f<facet>` = "1". The append script and the recipients check both use this list, so
 * what is written and what is recomputed cannot differ. Codes, countries and key versions never
 * hold a comma (the script splits on it).
 */
export function recipientFacets(e: Pick<TransferEntry, 'purpose' | 'categories' | 'keyVersion' | 'crossBorderBasis' | 'destinationCountries'>): string[] {
  const f = [`purpose\x1f${e.purpose}`, ...e.categories.map((c) => `cat\x1f${c}`)];
  if (e.keyVersion !== null) f.push(`kv\x1f${e.keyVersion}`);
  // RULES 16: 'domestic' means every destination was home; anything else crossed a border.
  if (e.crossBorderBasis !== null && e.crossBorderBasis !== 'domestic') {
    f.push(`xb\x1f${e.purpose}`, ...e.destinationCountries.map((c) => `cc\x1f${c}`));
  }
  return f;
}

/** Issue [6/6] item 2: each chain keeps its own record of the subject; the reader merges them. */
export async function recipientsOf(redis: Redis, keys: LogKeys, subjectRef: SubjectRefFn, userId: string): Promise<{ items: Recipient[] }> {
  const ref = subjectRef(userId);
  const chains = await listChains(redis, keys);
  const records = await Promise.all(chains.map((c) => redis.hGetAll(keys.chain(c).recipients(ref))));
  return { items: parseRecipients(mergeRecords(records)) };
}

/** Records of one subject from several chains as one: counts add up, first is the earliest, last the latest, facets unite. */
export function mergeRecords(records: Array<Record<string, string>>): Record<string, string> {
  if (records.length === 1) return records[0]!;
  const out: Record<string, string> = {};
  for (const r of records) {
    for (const [field, value] of Object.entries(r)) {
      const had = out[field];
      if (had === undefined) { out[field] = value; continue; }
      if (field.endsWith('\x1fcount')) out[field] = String(Number(had) + Number(value));
      else if (field.endsWith('\x1ffirst')) out[field] = value < had ? value : had;
      else if (field.endsWith('\x1flast')) out[field] = value > had ? value : had;
    }
  }
  return out;
}

/** Fields are `<partner>\x1f<count|first|last>` and `<partner>\x1f<purpose|cat>\x1f<code>`. */
export function parseRecipients(hash: Record<string, string>): Recipient[] {
  const by = new Map<string, Recipient>();
  for (const [field, value] of Object.entries(hash)) {
    const [partnerId, kind, code] = field.split('\x1f');
    if (!partnerId || !kind) continue;
    let r = by.get(partnerId);
    if (!r) {
      r = { partnerId, purposes: [], categories: [], firstAt: '', lastAt: '', count: 0, keyVersions: [], crossBorderPurposes: [], crossBorderCountries: [] };
      by.set(partnerId, r);
    }
    if (kind === 'count') r.count = Number(value);
    else if (kind === 'first') r.firstAt = value;
    else if (kind === 'last') r.lastAt = value;
    else if (kind === 'purpose' && code) r.purposes.push(code);
    else if (kind === 'cat' && code) r.categories.push(code);
    else if (kind === 'kv' && code) r.keyVersions.push(/^[1-9][0-9]{0,8}$/.test(code) ? Number(code) : code);
    else if (kind === 'xb' && code) r.crossBorderPurposes.push(code);
    else if (kind === 'cc' && code) r.crossBorderCountries.push(code);
  }
  const byValue = (a: number | string, b: number | string) => (typeof a === typeof b ? (a < b ? -1 : a > b ? 1 : 0) : typeof a === 'number' ? -1 : 1);
  return [...by.values()]
    .filter((r) => r.count > 0)
    .map((r) => ({
      ...r, purposes: r.purposes.sort(), categories: r.categories.sort(), keyVersions: r.keyVersions.sort(byValue),
      crossBorderPurposes: r.crossBorderPurposes.sort(), crossBorderCountries: r.crossBorderCountries.sort(),
    }))
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
export async function pruneRecipients(redis: Redis, keys: ChainKeys, subjectRef: string, cutoffIso: string): Promise<void> {
  await redis.eval(PRUNE_LUA, { keys: [keys.recipients(subjectRef)], arguments: [cutoffIso] });
}
