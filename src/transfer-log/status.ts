// The log's integrity at a glance (issue 16, console page 4): per chain, its head and the newest
// signed checkpoint (seq, time, hash), the newest chain registry statement, and what the HTTPS
// witness is still owed. Cheap reads only (the page loads in under 1 s however long the log): the
// newest checkpoints are read back from the end of their stream, a bounded number of them; a chain
// quiet for longer than that shows what the registry, which names every chain, last signed for it.
// Signatures are checked (DESIGN 10): a forged statement is shown as such, never as a checkpoint.
import type { Redis } from '../deps.ts';
import { checkpointVerifier } from './checkpoint.ts';
import type { Jwks } from './jwks.ts';
import type { LogKeys } from './keys.ts';
import { parseRegistry } from './registry.ts';
import { jwsVerifier } from './statement-signer.ts';
import { scanStream } from './scan.ts';
import { listChains, readHeads } from './chains.ts';

/** Per chain: how many invalid ones to pass over looking for the newest valid checkpoint. */
const NEWEST_CHECKPOINTS = 200;

export interface ChainStatus {
  chain: string;
  /** The seq of the chain's last appended entry (its head). */
  head: number;
  /** The newest checkpoint found for it, or what the registry last signed for it (`at` is then the statement's). */
  checkpoint: { seq: number; hash: string; at: string; from: 'checkpoint' | 'registry' } | null;
}

export interface LogStatus {
  chains: ChainStatus[];
  registry: { n: number; at: string } | { invalid: true } | null;
  /** null: no witness configured. */
  witness: { pending: number; posted: number } | null;
  /** Checkpoints that did not verify among the newest read (each one is a reason to run verify). */
  invalidCheckpoints: number;
}

export interface LogStatusDeps {
  redis: Redis;
  keys: LogKeys;
  jwks: Jwks;
  witness: { posted: number } | null;
}

export async function logStatus({ redis, keys, jwks, witness }: LogStatusDeps): Promise<LogStatus> {
  // Issue [6/6] item 2: each chain's head and newest checkpoint, in its own keys.
  const heads = await readHeads(redis, keys, await listChains(redis, keys));
  const wanted = new Set(Object.keys(heads));
  const found = new Map<string, NonNullable<ChainStatus['checkpoint']>>();
  const check = await checkpointVerifier(jwks);
  let invalidCheckpoints = 0;
  for (const chain of wanted) {
    let read = 0;
    for await (const raw of scanStream(redis, keys.chain(chain).checkpoints, { direction: 'desc', batch: 20 })) {
      if (++read > NEWEST_CHECKPOINTS) break;
      const r = await check(raw.fields.jws ?? '');
      if (!r.ok) { invalidCheckpoints++; continue; }
      const cp = r.checkpoint;
      found.set(chain, { seq: cp.seq, hash: cp.hash, at: cp.at, from: 'checkpoint' });
      break;
    }
  }
  const [last] = (await redis.xRevRange(keys.registry, '+', '-', { COUNT: 1 })) ?? [];
  let registry: LogStatus['registry'] = null;
  if (last) {
    const st = parseRegistry(jwsVerifier(jwks.keys)((last.message as Record<string, string>).jws ?? ''));
    registry = st ? { n: st.n, at: st.at } : { invalid: true };
    if (st) {
      for (const [chain, c] of Object.entries(st.chains)) {
        wanted.add(chain);
        if (!found.has(chain)) found.set(chain, { seq: c.seq, hash: c.hash, at: st.at, from: 'registry' });
      }
    }
  }
  const chains = [...wanted].sort().map((chain) => ({ chain, head: Number((heads[chain] ?? '0:').split(':')[0]), checkpoint: found.get(chain) ?? null }));
  return {
    chains, registry, invalidCheckpoints,
    witness: witness ? { pending: await redis.lLen(keys.witness), posted: witness.posted } : null,
  };
}
