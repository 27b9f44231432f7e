// Retention trim (issue 5, RULES 49): remove entries stored before a cutoff, after signing a
// `trim` checkpoint of the last removed entry of each chain, so verify still passes afterwards.
// The removed range is verified first: a trim must never launder tampering into a signature.
import { randomUUID } from 'node:crypto';
import type { Redis } from '../deps.ts';
import type { Logger } from '../log.ts';
import { storeCheckpoint, type CheckpointSigner } from './checkpoint.ts';
import { ChainVerifier, CheckpointIndex } from './chain-verifier.ts';
import { loadCheckpoints } from './verify.ts';
import { pruneRecipients } from './recipients.ts';
import type { Jwks } from './jwks.ts';
import type { LogKeys } from './keys.ts';
import { parseEntry, scanStream } from './scan.ts';
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
  const cps = await loadCheckpoints(redis, keys, d.jwks);
  if (!(cps instanceof CheckpointIndex)) return refuse(d, `checkpoint ${cps.checkpoint}: ${cps.detail}`);
  const v = new ChainVerifier(cps);
  const subjects = new Set<string>();
  const partners = new Set<string>();
  let lastSeen: string | null = null;
  for await (const raw of scanStream(redis, keys.entries, { direction: 'asc', max: `(${cutoffId}` })) {
    const broken = v.feed(raw);
    if (broken) return refuse(d, `entry ${broken.streamId} (chain ${broken.chain} seq ${broken.seq}): ${broken.detail}`);
    const e = parseEntry(raw)!;
    if (e.subjectRef) subjects.add(e.subjectRef);
    if (e.partnerId) partners.add(e.partnerId);
    lastSeen = raw.streamId;
  }
  // Every chain that had a trim keeps one newer than the cutoff: checkpoints older than the
  // cutoff are removed below, and a chain resumes after its last trim only with that proof.
  const trims = new Map<string, { seq: number; hash: string }>();
  for (const chain of cps.chains()) {
    const seq = cps.trimmedBelow(chain, Infinity);
    if (seq > 0) trims.set(chain, { seq, hash: cps.hashAt(chain, seq)! });
  }
  for (const [chain, head] of v.heads) trims.set(chain, head);
  const written: string[] = [];
  const sink = d.anchors?.sinkId();
  for (const [chain, t] of trims) {
    const jws = await d.sign({ kind: 'trim', chain, seq: t.seq, hash: t.hash, before: cutoffId, ...(sink ? { sink } : {}) });
    const id = await storeCheckpoint(redis, keys, jws);
    written.push(id);
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
  const upTo = lastSeen ? successor(lastSeen) : null;
  const removed = upTo ? await redis.xTrim(keys.entries, 'MINID', upTo) : 0;
  await redis.xTrim(keys.checkpoints, 'MINID', minId(upTo ?? cutoffId, written[0] ?? cutoffId));
  if (upTo) for (const p of partners) await redis.xTrim(keys.byPartner(p), 'MINID', upTo);
  const cutoffIso = new Date(cutoffMs).toISOString();
  for (const s of subjects) {
    if (upTo) await redis.xTrim(keys.bySubject(s), 'MINID', upTo);
    await pruneRecipients(redis, keys, s, cutoffIso);
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
function minId(a: string, b: string): string {
  const [x, y] = [parseId(a), parseId(b)];
  return x[0] < y[0] || (x[0] === y[0] && x[1] <= y[1]) ? a : b;
}
