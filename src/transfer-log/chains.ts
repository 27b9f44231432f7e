// Every chain a reader must visit (issue [6/6] item 2): the chain set, and for verify also every
// chain the newest registry statement names, so a chain removed from the set is still checked.
import type { Redis } from '../deps.ts';
import type { LogKeys } from './keys.ts';
import { parseHead } from './keys.ts';

export async function listChains(redis: Pick<Redis, 'sMembers'>, keys: LogKeys): Promise<string[]> {
  return (await redis.sMembers(keys.chains)).sort();
}

/** chain -> raw head value, read from each chain's own slot (one GET a chain, pipelined). */
export async function readHeads(redis: Pick<Redis, 'get'>, keys: LogKeys, chains: readonly string[]): Promise<Record<string, string>> {
  const values = await Promise.all(chains.map((c) => redis.get(keys.chain(c).head)));
  const out: Record<string, string> = {};
  chains.forEach((c, i) => { const v = values[i]; if (typeof v === 'string') out[c] = v; });
  return out;
}

export const headSeq = (v: string | undefined) => parseHead(v)?.seq ?? 0;
