// Retention trim (issue 5, RULES 49): remove entries stored before a cutoff, after signing a
// `trim` checkpoint of the last removed entry of each chain, so verify still passes afterwards.
// The removed range is verified first: a trim must never launder tampering into a signature.
import { randomUUID } from 'node:crypto';
import type { Redis } from '../deps.ts';
import type { Logger } from '../log.ts';
import { storeCheckpoint, type CheckpointSigner } from './checkpoint.ts';
import { ChainVerifier, CheckpointIndex } from './chain-verifier.ts';
import { loadCheckpoints, verifyChains } from './verify.ts';
import { pruneRecipients } from './recipients.ts';
import type { Jwks } from './jwks.ts';
import type { LogKeys } from './keys.ts';
import { parseEntry, scanStream, trimIdList } from './scan.ts';
import { compareStreamIds } from '../redis/stream-id.ts';
import type { AnchorSink } from './anchor-file.ts';
import type { JwsSigner } from './statement-signer.ts';
import { appendRegistry } from './registry.ts';

/** anchors: where trim checkpoints are anchored outside Redis before anything is removed (issue [3/6] item 3). */
export interface TrimDeps {
  redis: Redis; keys: LogKeys; jwks: Jwks; sign: CheckpointSigner; log: Logger; anchors?: AnchorSink | null;
  /** Signs the chain registry statement a trim starts the registry anew with (issue [3/6] item 2). */
  signStatement?: JwsSigner;
}
export type TrimResult = { removed: number; checkpoints: number } | { removed: 0; skipped: string };

export const TRIM_LOCK_MS = 15 * 60_000;
const RELEASE_LOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export async function trimBefore(d: TrimDeps, cutoffMs: number): Promise<TrimResult> {
  const token = randomUUID();
  // One instance at a time; the lock expires by itself if this one dies midway.
  if ((await d.redis.set(d.keys.trimLock, token, { condition: 'NX', expiration: { type: 'PX', value: TRIM_LOCK_MS } })) !== 'OK') {
    return { removed: 0, skipped: 'another instance is trimming' };
  }
  try {
    return await trimLocked(d, cutoffMs);
  } finally {
    await d.redis.eval(RELEASE_LOCK, { keys: [d.keys.trimLock], arguments: [token] }).catch(() => undefined);
  }
}

async function trimLocked(d: TrimDeps, cutoffMs: number): Promise<TrimResult> {
  const { redis, keys } = d;
  const cutoffId = `${cutoffMs}-0`;
  // Issue [6/6] item 2: each chain is trimmed in its own keys (its own slot).
  const chains = await verifyChains(redis, keys);
  const cps = await loadCheckpoints(redis, keys, d.jwks, chains);
  if (!(cps instanceof CheckpointIndex)) return refuse(d, `checkpoint ${cps.checkpoint}: ${cps.detail}`);
  const v = new ChainVerifier(cps);
  const seen = new Map<string, { subjects: Set<string>; last: string }>();
  for (const chain of chains) {
    for await (const raw of scanStream(redis, keys.chain(chain).entries, { direction: 'asc', max: `(${cutoffId}` })) {
      const broken = v.feed(raw, chain);
      if (broken) return refuse(d, `entry ${broken.streamId} (chain ${broken.chain} seq ${broken.seq}): ${broken.detail}`);
      const e = parseEntry(raw)!;
      const s = seen.get(chain) ?? { subjects: new Set<string>(), last: raw.streamId };
      seen.set(chain, s);
      if (e.subjectRef) s.subjects.add(e.subjectRef);
      s.last = raw.streamId;
    }
  }
  // Every chain that had a trim keeps one newer than the cutoff: checkpoints older than the
  // cutoff are removed below, and a chain resumes after its last trim only with that proof.
  const trims = new Map<string, { seq: number; hash: string }>();
  for (const chain of cps.chains()) {
    const seq = cps.trimmedBelow(chain, Infinity);
    if (seq > 0) trims.set(chain, { seq, hash: cps.hashAt(chain, seq)! });
  }
  for (const [chain, head] of v.heads) trims.set(chain, head);
  const written = new Map<string, string>();
  const sink = d.anchors?.sinkId();
  for (const [chain, t] of trims) {
    const jws = await d.sign({ kind: 'trim', chain, seq: t.seq, hash: t.hash, before: cutoffId, ...(sink ? { sink } : {}) });
    const id = await storeCheckpoint(redis, keys.chain(chain), jws);
    written.set(chain, id);
    // Anchored before anything is removed: a trim the anchors cannot show would look like deletion.
    await d.anchors?.append([{ stream: 'checkpoints', id, jws }]);
  }
  // The registry is trimmed too (its older statements name retired signing keys and grow without
  // end): a fresh statement, anchored, carries every chain forward, and the older ones go. The
  // anchors file keeps them all.
  if (d.signStatement) {
    const w = await appendRegistry(redis, keys, d.signStatement, trims, sink ?? null, () => new Date(), true);
    if (w) {
      await d.anchors?.append([{ stream: 'registry', id: w.id, jws: w.jws }]);
      await redis.xTrim(keys.registry, 'MINID', w.id);
    }
  }
  // Remove exactly what was verified: an entry appended since has a higher id and stays.
  let removed = 0;
  const cutoffIso = new Date(cutoffMs).toISOString();
  for (const chain of chains) {
    const ck = keys.chain(chain);
    const s = seen.get(chain);
    const upTo = s ? successor(s.last) : null;
    if (upTo) removed += await redis.xTrim(ck.entries, 'MINID', upTo);
    await redis.xTrim(ck.checkpoints, 'MINID', minId(upTo ?? cutoffId, written.get(chain) ?? cutoffId));
    for (const ref of s?.subjects ?? []) {
      if (upTo) await trimIdList(redis, ck.bySubject(ref), upTo);
      await pruneRecipients(redis, ck, ref, cutoffIso);
    }
  }
  d.log.info({ removed, chains: v.heads.size, cutoff: cutoffIso }, 'transfer log trimmed');
  return { removed, checkpoints: trims.size };
}

function refuse(d: TrimDeps, why: string): TrimResult {
  d.log.error({ why }, 'transfer log not trimmed: the range to remove does not verify');
  return { removed: 0, skipped: `log does not verify: ${why}` };
}

const parseId = (id: string) => id.split('-').map(BigInt) as [bigint, bigint];
const successor = (id: string) => { const [ms, seq] = parseId(id); return `${ms}-${seq + 1n}`; };
const minId = (a: string, b: string): string => (compareStreamIds(a, b) <= 0 ? a : b);
