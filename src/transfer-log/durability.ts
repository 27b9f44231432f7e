// Issue 5: an append is durable when Redis has fsynced it before replying, i.e. AOF on with
// appendfsync always. A Redis that says otherwise makes appends fail closed (DESIGN 1). A Redis
// that hides CONFIG (renamed or forbidden, as managed services do) cannot show it, so it is
// refused too (DESIGN 1: a check that cannot run is a denial), unless the operator states in
// transferLog.durabilityAssertedBy who vouches for its durability (issue [1/6] item 7a).
// Issue [6/6] item 4: CONFIG is node-level, so it is asked of every primary (topology.ts); any
// primary that is not durable refuses the appends (a chain's slot may live on any of them).
import type { LogNodeClient, LogTopology } from './topology.ts';

export type DurabilityCheck = { ok: true; asserted: boolean } | { ok: false; problem: string };

/** `assertedBy`: transferLog.durabilityAssertedBy, consulted only when CONFIG is hidden. */
export async function checkDurability(topology: Pick<LogTopology, 'forEachPrimary'>, assertedBy: string | null): Promise<DurabilityCheck> {
  const all = await topology.forEachPrimary((node) => checkNode(node, assertedBy));
  return all.find((c) => !c.ok) ?? { ok: true, asserted: all.some((c) => c.ok && c.asserted) };
}

async function checkNode(redis: Pick<LogNodeClient, 'configGet'>, assertedBy: string | null): Promise<DurabilityCheck> {
  let cfg: Record<string, string>;
  try {
    cfg = (await redis.configGet(['appendonly', 'appendfsync'])) as Record<string, string>;
  } catch (e) {
    const msg = (e as Error).message ?? '';
    // Renamed or forbidden CONFIG answers with a Redis error; anything else (down, timeout) is not an answer.
    if (!/unknown command|NOPERM|no permissions/i.test(msg)) throw e;
    if (assertedBy !== null) return { ok: true, asserted: true };
    return { ok: false, problem: 'redis hides CONFIG, so appendonly yes / appendfsync always cannot be checked; set transferLog.durabilityAssertedBy to state who vouches for it' };
  }
  if (cfg.appendonly !== 'yes' || cfg.appendfsync !== 'always') {
    return { ok: false, problem: `redis must run with appendonly yes and appendfsync always (has appendonly ${cfg.appendonly}, appendfsync ${cfg.appendfsync})` };
  }
  return { ok: true, asserted: false };
}
