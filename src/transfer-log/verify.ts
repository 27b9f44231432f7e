// `GET /admin/v1/transfers/verify` and `partner-gateway log verify` (CONTRACT 5, 7; issue 5):
// check every checkpoint signature, then recompute every chain in one streaming pass.
import type { Redis } from '../deps.ts';
import { checkpointVerifier } from './checkpoint.ts';
import { CheckpointIndex, ChainVerifier, type BrokenAt } from './chain-verifier.ts';
import type { Jwks } from './jwks.ts';
import type { LogKeys } from './keys.ts';
import { scanStream } from './scan.ts';
import { checkRecipients, type RecipientsReport } from './recipients-check.ts';
import { recipientsTally } from './recipients-tally.ts';

export interface VerifyResult {
  ok: boolean;
  entries: number;
  chains: number;
  checkpoints: number;
  /** Entries after the last checkpoint of their chain (signed at the next checkpoint). */
  unsigned: number;
  brokenAt?: BrokenAt;
  /** The recipients index against the entries (issue 15 item 5); absent when a chain is broken. */
  recipients?: RecipientsReport;
}

export interface VerifyOptions {
  /** `log rebuild-recipients`: rewrite every drifting recipients record (rebuild-recipients.ts). */
  repairRecipients?: boolean;
}

/** Signed checkpoints, all verified; the first bad or contradicting one breaks the log. */
export async function loadCheckpoints(redis: Redis, keys: LogKeys, jwks: Jwks): Promise<CheckpointIndex | BrokenAt> {
  const check = await checkpointVerifier(jwks);
  const index = new CheckpointIndex();
  for await (const raw of scanStream(redis, keys.checkpoints, { direction: 'asc' })) {
    const r = await check(raw.fields.jws ?? '');
    const at = { streamId: null, id: null, checkpoint: raw.streamId };
    if (!r.ok) return { ...at, chain: null, seq: null, reason: 'checkpoint_invalid', detail: `checkpoint ${r.reason}` };
    if (!index.add(r.checkpoint)) {
      return { ...at, chain: r.checkpoint.chain, seq: r.checkpoint.seq, reason: 'checkpoint_conflict', detail: 'two signed checkpoints disagree' };
    }
  }
  return index;
}

export async function verifyLog(redis: Redis, keys: LogKeys, jwks: Jwks, opts: VerifyOptions = {}): Promise<VerifyResult> {
  const lastCheckpoint = async () => (await redis.xRevRange(keys.checkpoints, '+', '-', { COUNT: 1 }))[0]?.id ?? null;
  const before = await lastCheckpoint();
  const r = await verifyOnce(redis, keys, jwks, opts);
  // A retention run that trimmed during the scan looks like removed entries: check once more.
  if (!r.ok && (await lastCheckpoint()) !== before) return verifyOnce(redis, keys, jwks, opts);
  return r;
}

async function verifyOnce(redis: Redis, keys: LogKeys, jwks: Jwks, opts: VerifyOptions): Promise<VerifyResult> {
  const cps = await loadCheckpoints(redis, keys, jwks);
  if (!(cps instanceof CheckpointIndex)) return { ok: false, entries: 0, chains: 0, checkpoints: 0, unsigned: 0, brokenAt: cps };
  // Heads before the scan: every entry up to them was stored before the scan began, so it must be seen.
  const headsBefore = await redis.hGetAll(keys.heads);
  const v = new ChainVerifier(cps);
  const tally = await recipientsTally(redis, keys);
  const result = (brokenAt?: BrokenAt): VerifyResult => ({
    ok: !brokenAt, entries: v.entries, chains: v.heads.size, checkpoints: cps.count, unsigned: v.unsigned(),
    ...(brokenAt ? { brokenAt } : {}),
  });
  for await (const raw of scanStream(redis, keys.entries, { direction: 'asc' })) {
    const broken = v.feed(raw);
    if (broken) return result(broken);
    tally.feed(raw);
  }
  const headsAfter = await redis.hGetAll(keys.heads);
  const broken = v.finish(headsBefore, headsAfter);
  if (broken) return result(broken);
  // RULES 12: the index that addresses withdrawal notices must say what the entries say. Only
  // from an intact log: a rebuild must never launder tampered entries into the index.
  const trimmed = cps.chains().some((c) => cps.trimmedBelow(c, Infinity) > 0);
  const recipients = await checkRecipients(redis, keys, tally, { trimmed, repair: opts.repairRecipients === true });
  return { ...result(), ok: recipients.ok, recipients };
}
