// The governed jurisdiction state in Redis (RULES 17, 20). One hash holds the version and every
// entry; each change bumps the version, appends to the history stream and the admin audit trail,
// and is published to every instance — all in one script, so none of them can be left out.
import type { Redis } from '../deps.ts';
import type { Actor } from '../auth/roles.ts';
import { auditedEval } from '../auth/admin-audit.ts';
import type { AdequacyRecord, BlockRecord, JurisdictionState } from './entries.ts';
import { CONTROL_PLANE as CP } from '../redis/keys.ts';

export const JURISDICTION_KEY = `${CP}jurisdiction`;
export const JURISDICTION_HISTORY = `${CP}jurisdiction:history`;
/** Published (message: the new version) in the same script as every change. */
export const JURISDICTION_CHANNEL = 'pg:jurisdiction:changed';

export type Kind = 'adequate' | 'blocked';
const field = (kind: Kind, country: string) => `${kind === 'adequate' ? 'a' : 'b'}:${country}`;

// KEYS[2] state hash, KEYS[3] history; ARGV[5] field, ARGV[6] entry JSON ('' removes),
// ARGV[7] channel, ARGV[8] audit target.
const CHANGE = `
local before = redis.call('HGET', KEYS[2], ARGV[5])
if ARGV[6] == '' then
  if not before then return {'absent'} end
  redis.call('HDEL', KEYS[2], ARGV[5])
else
  redis.call('HSET', KEYS[2], ARGV[5], ARGV[6])
end
local v = redis.call('HINCRBY', KEYS[2], 'version', 1)
local entry = ARGV[6] ~= '' and ARGV[6] or 'null'
redis.call('XADD', KEYS[3], '*', 'version', v, 'at', ARGV[1], 'actorId', ARGV[2], 'action', ARGV[4],
  'target', ARGV[8], 'before', before or '', 'after', ARGV[6])
audit(ARGV[8], before, '{"version":' .. v .. ',"entry":' .. entry .. '}')
redis.call('PUBLISH', ARGV[7], v)
return {'ok', v}`;

// Only while the list has never been governed: ARGV[5] channel, ARGV[6] summary, then field/entry pairs.
const SEED = `
if redis.call('HEXISTS', KEYS[2], 'version') == 1 then return {'exists', redis.call('HGET', KEYS[2], 'version')} end
for i = 7, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
local v = redis.call('HINCRBY', KEYS[2], 'version', 1)
redis.call('XADD', KEYS[3], '*', 'version', v, 'at', ARGV[1], 'actorId', ARGV[2], 'action', ARGV[4],
  'target', 'jurisdiction/adequate', 'before', '', 'after', ARGV[6])
audit('jurisdiction/adequate', '', '{"version":' .. v .. ',"entries":' .. ARGV[6] .. '}')
redis.call('PUBLISH', ARGV[5], v)
return {'ok', v}`;

export interface HistoryItem {
  id: string; version: number; at: string; actorId: string; action: string; target: string; before: unknown; after: unknown;
}

const json = (s: string | undefined): unknown => {
  try {
    return s ? JSON.parse(s) : null;
  } catch {
    return null;
  }
};

export class JurisdictionStore {
  constructor(private readonly redis: Redis) {}

  /** Set (entry) or remove (null) one entry; the new version, or null when there was nothing to remove. */
  async change(actor: Actor, kind: Kind, country: string, entry: AdequacyRecord | BlockRecord | null, now = new Date()): Promise<number | null> {
    const action = `jurisdiction.${kind === 'adequate' ? (entry ? 'adequate.put' : 'adequate.delete') : (entry ? 'block' : 'unblock')}`;
    const r = await auditedEval(this.redis, CHANGE, actor, action, [JURISDICTION_KEY, JURISDICTION_HISTORY],
      [field(kind, country), entry ? JSON.stringify(entry) : '', JURISDICTION_CHANNEL, `jurisdiction/${kind}/${country}`], now);
    return r[0] === 'ok' ? Number(r[1]) : null;
  }

  /** Write the configuration's bootstrap entries unless the list has been governed before. */
  async seed(actor: Actor, entries: AdequacyRecord[], now = new Date()): Promise<{ seeded: boolean; version: number }> {
    const pairs = entries.flatMap((e) => [field('adequate', e.country), JSON.stringify(e)]);
    const r = await auditedEval(this.redis, SEED, actor, 'jurisdiction.bootstrap', [JURISDICTION_KEY, JURISDICTION_HISTORY],
      [JURISDICTION_CHANNEL, JSON.stringify(entries), ...pairs], now);
    return { seeded: r[0] === 'ok', version: Number(r[1]) };
  }

  /** The whole state, read atomically (one HGETALL). */
  async read(): Promise<JurisdictionState> {
    const h = await this.redis.hGetAll(JURISDICTION_KEY);
    const state: JurisdictionState = { version: Number(h.version ?? 0), adequate: [], blocked: [] };
    for (const [k, v] of Object.entries(h)) {
      const country = k.slice(2);
      if (k.startsWith('a:')) {
        // An unreadable adequacy entry is absent (RULES 15: unknown = not adequate).
        const e = json(v) as AdequacyRecord | null;
        if (e && e.country === country && typeof e.reviewBy === 'string') state.adequate.push(e);
      } else if (k.startsWith('b:')) {
        // An unreadable block still blocks its country (DESIGN 1: fail closed).
        const e = (json(v) ?? {}) as Partial<BlockRecord>;
        state.blocked.push({ country, reason: String(e.reason ?? ''), blockedBy: String(e.blockedBy ?? ''), blockedAt: String(e.blockedAt ?? '') });
      }
    }
    state.adequate.sort((a, b) => a.country.localeCompare(b.country));
    state.blocked.sort((a, b) => a.country.localeCompare(b.country));
    return state;
  }

  /** Newest first; `cursor` is the id of the last item of the previous page (exclusive). */
  async history(limit: number, cursor?: string): Promise<{ items: HistoryItem[]; nextCursor: string | null }> {
    const rows = ((await this.redis.xRevRange(JURISDICTION_HISTORY, cursor ? `(${cursor}` : '+', '-', { COUNT: limit + 1 })) ?? []);
    const items = rows.slice(0, limit).map(({ id, message: m }) => ({
      id, version: Number(m.version ?? 0), at: m.at ?? '', actorId: m.actorId ?? '', action: m.action ?? '',
      target: m.target ?? '', before: json(m.before), after: json(m.after),
    }));
    return { items, nextCursor: rows.length > limit ? items[items.length - 1]!.id : null };
  }
}
