// The admin audit trail: every admin change (who, what, when, before/after) is appended to a Redis
// stream in the same Lua script as the change itself, so a change is never left unrecorded and an
// entry never describes a change that did not happen. Read by the `auditor` role only (RULES 49).
import type { Redis } from '../deps.ts';
import type { Actor } from './roles.ts';
import { CONTROL_PLANE as CP } from '../redis/keys.ts';

// Issue 18: in the control-plane slot, with every key an audited script changes (redis/keys.ts).
export const AUDIT_STREAM = `${CP}admin:audit`;

// KEYS[1] and ARGV[1..4] belong to this prelude; a script's own keys start at KEYS[2], its own
// arguments at ARGV[5]. `before`/`after` are small JSON summaries that never carry secrets.
// `action` (optional) names a second change the same script makes, e.g. the key rotation that
// terminating an agreement brings (RULES 29); by default the script's own action.
const PRELUDE = `
local function audit(target, before, after, action)
  redis.call('XADD', KEYS[1], '*', 'at', ARGV[1], 'actorId', ARGV[2], 'actorRole', ARGV[3],
    'action', action or ARGV[4], 'target', target, 'before', before or '', 'after', after or '')
end
`;

/** Who the trail names: an admin token, or the gateway itself for scheduled work (RULES 29). */
export type AuditActor = Actor | { tokenId: string; role: 'system' };

export type ScriptReply = Array<string | number>;

/** Run `body` atomically with its audit entry. `body` calls audit(target, before, after). */
export async function auditedEval(
  redis: Redis, body: string, actor: AuditActor, action: string, keys: string[], args: string[], now = new Date(),
): Promise<ScriptReply> {
  const reply = await redis.eval(PRELUDE + body, {
    keys: [AUDIT_STREAM, ...keys],
    arguments: [now.toISOString(), actor.tokenId, actor.role, action, ...args],
  });
  return reply as ScriptReply;
}

export interface AuditEntry {
  id: string;
  at: string;
  actor: { tokenId: string; role: string };
  action: string;
  target: string;
  before: unknown;
  after: unknown;
}

const parse = (s: string | undefined): unknown => (s ? JSON.parse(s) : null);

/** Newest first; `cursor` is the id of the last entry of the previous page (exclusive). */
export async function readAudit(redis: Redis, limit: number, cursor?: string): Promise<{ items: AuditEntry[]; nextCursor: string | null }> {
  const rows = ((await redis.xRevRange(AUDIT_STREAM, cursor ? `(${cursor}` : '+', '-', { COUNT: limit + 1 })) ?? []);
  const items = rows.slice(0, limit).map(({ id, message: m }) => ({
    id,
    at: m.at ?? '',
    actor: { tokenId: m.actorId ?? '', role: m.actorRole ?? '' },
    action: m.action ?? '',
    target: m.target ?? '',
    before: parse(m.before),
    after: parse(m.after),
  }));
  return { items, nextCursor: rows.length > limit ? items[items.length - 1]!.id : null };
}
