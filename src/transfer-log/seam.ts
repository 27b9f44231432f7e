// A chain interrupted by a failure (issue [6/6] item 4: a failover, or any batch whose fate is
// unknown) is closed, and the writer goes on with a new chain. The close is an `end` checkpoint in
// the chain's own stream, signed by the gateway and anchored like every checkpoint: it names where
// the chain ends in Redis as it is now (seq, hash: e.g. the last entry a promoted replica had), the
// highest seq the writer had released (`released`: acknowledged, WAIT included, before anything
// left) and the highest it had sent (`sent`). `verify` then reports the seam as a seam: seqs
// released..sent that are gone were never released (an explained loss, RULES 48), while a
// released seq beyond the end is evidence lost after release, and fails. The head is marked
// closed in the same atomic call, and the append script refuses a head not its own, so nothing
// is appended to a closed chain, not even a batch that timed out and lands late.
import type { Redis } from '../deps.ts';
import type { AnchorLine } from './anchor-file.ts';
import type { SyncCheckpointSigner } from './checkpoint.ts';
import { GENESIS } from './entry.ts';
import { parseHead, type ChainKeys } from './keys.ts';

const CLOSE_LUA = `
if (redis.call('GET', KEYS[1]) or '') ~= ARGV[1] then return false end
redis.call('SET', KEYS[1], ARGV[2])
return redis.call('XADD', KEYS[2], '*', 'jws', ARGV[3])
`;

export interface ChainEnd { chain: string; sent: number; released: number; sink: string | null }

/** Closes the chain where Redis has it now; returns the anchor line of its end statement. */
export async function closeChain(redis: Pick<Redis, 'get' | 'eval' | 'xRevRange'>, keys: ChainKeys, end: ChainEnd, sign: SyncCheckpointSigner): Promise<{ seq: number; line: AnchorLine }> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const raw = await redis.get(keys.head);
    const head = parseHead(raw);
    if (head?.ended) {
      // Closed by an earlier attempt whose anchor line then failed: its end statement is the chain's last checkpoint.
      const [last] = (await redis.xRevRange(keys.checkpoints, '+', '-', { COUNT: 1 })) ?? [];
      const jws = (last?.message as Record<string, string> | undefined)?.jws;
      if (!last || !jws) throw new Error(`chain ${end.chain} is closed but its end statement is gone`);
      return { seq: head.seq, line: { stream: 'checkpoints', id: last.id, jws } };
    }
    const seq = head?.seq ?? 0;
    const hash = head?.hash || GENESIS;
    const jws = sign({ kind: 'end', chain: end.chain, seq, hash, released: end.released, sent: end.sent, ...(end.sink ? { sink: end.sink } : {}) });
    const id = await redis.eval(CLOSE_LUA, { keys: [keys.head, keys.checkpoints], arguments: [raw ?? '', `${seq}:${hash}:end`, jws] });
    if (typeof id === 'string') return { seq, line: { stream: 'checkpoints', id, jws } };
  }
  throw new Error(`chain ${end.chain}: its head kept moving while it was being closed`);
}

/** A seam as verify reports it. */
export interface Seam {
  chain: string;
  /** Where the chain ends in Redis (its last entry). */
  endSeq: number;
  /** The highest seq released to a caller before the chain was interrupted. */
  released: number;
  /** Seqs sent to Redis that are not in it and were never released (lost in the failover). */
  lostUnreleased: number;
}
