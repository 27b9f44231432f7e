// Fan-out reads (issue [6/6] item 2): each chain is its own stream (its own slot, maybe its own
// shard); readers walk every chain and merge by stream id, i.e. by the time Redis stored each
// entry. Equal ids on two chains (two streams can stamp the same ms-seq) are ordered by chain id.

import { compareStreamIds } from '../redis/stream-id.ts';

export interface Positioned { streamId: string; chain: string }

/** <0, 0, >0 like a comparator: by stream id, then by chain id. */
export function compareIds(a: Positioned, b: Positioned): number {
  const byId = compareStreamIds(a.streamId, b.streamId);
  if (byId !== 0) return byId;
  return a.chain < b.chain ? -1 : a.chain > b.chain ? 1 : 0;
}

/** k-way merge of per-chain generators, each already in `direction` order. */
export async function* mergeByTime<T extends Positioned>(gens: Array<AsyncGenerator<T>>, direction: 'asc' | 'desc'): AsyncGenerator<T> {
  const sign = direction === 'asc' ? 1 : -1;
  try {
    const heads = await Promise.all(gens.map((g) => g.next()));
    for (;;) {
      let best = -1;
      for (let i = 0; i < heads.length; i++) {
        const h = heads[i]!;
        if (h.done) continue;
        if (best < 0 || sign * compareIds(h.value, (heads[best]!.value as T)) < 0) best = i;
      }
      if (best < 0) return;
      yield heads[best]!.value as T;
      heads[best] = await gens[best]!.next();
    }
  } finally {
    await Promise.all(gens.map((g) => g.return(undefined)));
  }
}
