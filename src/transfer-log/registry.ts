// The signed chain registry (issue [3/6] item 2): a stream of statements, each listing every chain
// with the latest (seq, hash) a batch checkpoint covers, and each signing the hash of the
// statement before it. Deleting a whole chain (entries, head and checkpoints) or cutting its tail
// leaves a signed statement naming what is gone; removing or replacing statements breaks the
// links (and the anchors file, outside Redis, still holds them).
import type { Redis } from '../deps.ts';
import type { LogKeys } from './keys.ts';
import { GENESIS } from './entry.ts';
import { statementHash, jwsPayload, type JwsSigner } from './statement-signer.ts';

export interface RegistryStatement {
  typ: 'tlog-registry';
  /** 1, 2, 3, ...: position in the registry. */
  n: number;
  /** statementHash of statement n-1 (GENESIS for n = 1). */
  prev: string;
  at: string;
  /** The anchor sink of the instance that wrote it (null: none configured). */
  sink: string | null;
  chains: Record<string, { seq: number; hash: string }>;
}

export function parseRegistry(payload: unknown): RegistryStatement | null {
  const r = payload as RegistryStatement | null;
  if (!r || r.typ !== 'tlog-registry' || !Number.isInteger(r.n) || r.n < 1 || typeof r.prev !== 'string' || typeof r.chains !== 'object' || !r.chains) return null;
  for (const c of Object.values(r.chains)) {
    if (!c || !Number.isInteger(c.seq) || c.seq < 1 || !/^[0-9a-f]{64}$/.test(c.hash)) return null;
  }
  return r;
}

// Compare-and-append: the statement goes in only if the newest one is still the one it signs.
const APPEND_IF_LAST = `
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local id = last[1] and last[1][1] or ''
if id ~= ARGV[1] then return false end
return redis.call('XADD', KEYS[1], '*', 'jws', ARGV[2])
`;

export interface RegistryWrite { id: string; jws: string }

/**
 * Merges `heads` (this instance's chains) into the newest statement and appends the result.
 * Retries when another instance appended in between. Returns null when nothing changed.
 */
export async function appendRegistry(redis: Redis, keys: LogKeys, sign: JwsSigner, heads: Map<string, { seq: number; hash: string }>,
  sink: string | null, now: () => Date, force = false): Promise<RegistryWrite | null> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const [last] = ((await redis.xRevRange(keys.registry, '+', '-', { COUNT: 1 })) ?? []);
    const lastJws = (last?.message as Record<string, string> | undefined)?.jws ?? '';
    // The newest statement is read back unverified: a forged one makes verify fail, not this.
    const prev = last ? parseRegistry(jwsPayload(lastJws)) : null;
    if (last && !prev) throw new Error('the newest chain registry statement is malformed');
    const chains = { ...(prev?.chains ?? {}) };
    let changed = false;
    for (const [chain, h] of heads) {
      if ((chains[chain]?.seq ?? 0) < h.seq) { chains[chain] = { seq: h.seq, hash: h.hash }; changed = true; }
    }
    if (!changed && !force) return null;
    const st: RegistryStatement = { typ: 'tlog-registry', n: (prev?.n ?? 0) + 1, prev: last ? statementHash(lastJws) : GENESIS, at: now().toISOString(), sink, chains };
    const jws = sign(st);
    const id = await redis.eval(APPEND_IF_LAST, { keys: [keys.registry], arguments: [last?.id ?? '', jws] });
    if (typeof id === 'string') return { id, jws };
  }
  throw new Error('the chain registry kept moving; will retry');
}
