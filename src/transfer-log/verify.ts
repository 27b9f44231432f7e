// `GET /admin/v1/transfers/verify` and `partner-gateway log verify` (CONTRACT 5, 7; issue 5):
// check every checkpoint signature, then recompute every chain in one streaming pass.
// Issue [3/6]: batch checkpoints must link into a chain per log chain, the chain registry must
// link and every chain it names must still reach what it names, and, given the anchors file,
// Redis and the file must hold the same statements (anchor-check.ts).
import type { Redis } from '../deps.ts';
import { checkpointVerifier } from './checkpoint.ts';
import { CheckpointIndex, ChainVerifier, type BrokenAt } from './chain-verifier.ts';
import { GENESIS } from './entry.ts';
import type { Jwks } from './jwks.ts';
import type { LogKeys } from './keys.ts';
import { scanStream } from './scan.ts';
import { listChains, readHeads } from './chains.ts';
import type { Seam } from './seam.ts';
import { singleTopology, type LogTopology } from './topology.ts';
import { statementHash, jwsVerifier, jwsPayload } from './statement-signer.ts';
import { parseRegistry } from './registry.ts';
import { checkAnchors, readAnchors, type AnchorSummary } from './anchor-check.ts';
import { checkRecipients, type RecipientsReport } from './recipients-check.ts';
import { recipientsTallies } from './recipients-tally.ts';

export interface VerifyResult {
  ok: boolean;
  entries: number;
  chains: number;
  checkpoints: number;
  /** Entries after the last checkpoint of their chain (0 since every batch is signed; older logs may have some). */
  unsigned: number;
  /** Chain registry statements checked. */
  registry: number;
  /** Present when checked against an anchors file. */
  anchors?: AnchorSummary;
  brokenAt?: BrokenAt;
  /** The recipients index against the entries (issue 15 item 5); absent when a chain is broken. */
  recipients?: RecipientsReport;
  /** Chains closed after a failure (issue [6/6] item 4): explained ends, not tampering. */
  seams?: Seam[];
}

export interface VerifyOptions {
  /** `log rebuild-recipients`: rewrite every drifting recipients record (rebuild-recipients.ts). */
  repairRecipients?: boolean;
  /** Check against this anchors file (issue [3/6] item 3). */
  anchorsFile?: string;
  /** A statement stored this recently may still be on its way to the file (default 10 s). */
  anchorGraceMs?: number;
  /** Told how far the scan is (issue 16: the console's progress); never changes the result. */
  onProgress?: (p: VerifyProgress) => void;
  /** SCAN on every primary (issue [6/6] item 4); default: the one client is the one primary. */
  topology?: LogTopology;
}

/** Chains whose entries the scan has walked up to the head they had when it began, of all of them. */
export interface VerifyProgress { phase: 'checkpoints' | 'entries' | 'anchors' | 'recipients' | 'done'; chainsDone: number; chainsTotal: number; entries: number }

const PROGRESS_EVERY = 1000;

/** Signed checkpoints, all verified and linked; the first bad or contradicting one breaks the log. */
export async function loadCheckpoints(redis: Redis, keys: LogKeys, jwks: Jwks, chains: readonly string[]): Promise<CheckpointIndex | BrokenAt> {
  const check = await checkpointVerifier(jwks);
  const index = new CheckpointIndex();
  const links = new Map<string, { seq: number; hash: string }>();
  const midway = new Map<string, number>();
  for (const chain of chains) for await (const raw of scanStream(redis, keys.chain(chain).checkpoints, { direction: 'asc' })) {
    const jws = raw.fields.jws ?? '';
    const r = await check(jws);
    const at = { streamId: null, id: null, checkpoint: raw.streamId };
    if (!r.ok) return { ...at, chain: null, seq: null, reason: 'checkpoint_invalid', detail: `checkpoint ${r.reason}` };
    const cp = r.checkpoint;
    // Each chain's stream holds only its own statements: one filed under another chain was moved there.
    if (cp.chain !== chain) return { ...at, chain, seq: cp.seq, reason: 'checkpoint_invalid', detail: `a checkpoint of chain ${cp.chain} is stored under chain ${chain}` };
    if (!index.add(cp)) {
      return { ...at, chain: cp.chain, seq: cp.seq, reason: 'checkpoint_conflict', detail: 'two signed checkpoints disagree' };
    }
    const hash = statementHash(jws);
    index.statements.set(hash, { stream: 'checkpoints', id: raw.streamId, chain: cp.chain, seq: cp.seq, sink: cp.sink ?? null });
    if (cp.kind === 'end') index.ends.set(cp.chain, cp);
    if (cp.kind !== 'batch') continue;
    // Issue [3/6] item 2: each batch checkpoint signs the previous one of its chain.
    const prev = links.get(cp.chain);
    if (prev && (cp.prev !== prev.hash || cp.first !== prev.seq + 1)) {
      return { ...at, chain: cp.chain, seq: prev.seq + 1, reason: 'checkpoint_chain_break',
        detail: `the checkpoint after seq ${prev.seq} does not sign the one before it (removed, replaced or replayed)` };
    }
    if (!prev && (cp.prev !== GENESIS || cp.first !== 1)) midway.set(cp.chain, cp.first!);
    links.set(cp.chain, { seq: cp.seq, hash });
  }
  // Checkpoints of a chain may start midway only where retention trimmed (and signed what it trimmed).
  for (const [chain, first] of midway) {
    if (index.trimmedBelow(chain, Infinity) === 0) {
      return { streamId: null, id: null, chain, seq: first - 1, reason: 'checkpoint_chain_break',
        detail: `the first checkpoint of the chain (from seq ${first}) signs one that is gone, and nothing was trimmed` };
    }
  }
  return index;
}

/** The chain registry: linked statements; the newest one's claims join the index (the chains must reach them). */
async function loadRegistry(redis: Redis, keys: LogKeys, jwks: Jwks, index: CheckpointIndex): Promise<number | BrokenAt> {
  const check = jwsVerifier(jwks.keys);
  let prev = { n: 0, hash: GENESIS };
  let claims: Record<string, { seq: number; hash: string }> = {};
  for await (const raw of scanStream(redis, keys.registry, { direction: 'asc' })) {
    const jws = raw.fields.jws ?? '';
    const st = parseRegistry(check(jws));
    const at = { streamId: null, id: null, chain: null, seq: null, checkpoint: raw.streamId };
    if (!st) return { ...at, reason: 'checkpoint_invalid', detail: 'chain registry statement: signature invalid or payload malformed' };
    // Retention trims the registry too, after a fresh statement: the first one left may start midway.
    const trimmedStart = prev.n === 0 && index.hasTrims();
    if (!trimmedStart && (st.n !== prev.n + 1 || st.prev !== prev.hash)) {
      return { ...at, reason: 'registry_break', detail: `chain registry statement ${prev.n + 1} is missing or replaced (found statement ${st.n})` };
    }
    const hash = statementHash(jws);
    index.statements.set(hash, { stream: 'registry', id: raw.streamId, chain: null, seq: st.n, sink: st.sink });
    prev = { n: st.n, hash };
    claims = st.chains;
  }
  for (const [chain, c] of Object.entries(claims)) {
    if (!index.claim(chain, c.seq, c.hash)) {
      return { streamId: null, id: null, chain, seq: c.seq, reason: 'checkpoint_conflict', detail: 'the chain registry and a checkpoint disagree' };
    }
  }
  return prev.n;
}

/**
 * Every chain to check: the chain set, and every chain the newest registry statement names (read
 * here for its names only; loadRegistry verifies it), so a chain dropped from the set is missed.
 */
export async function verifyChains(redis: Redis, keys: LogKeys): Promise<string[]> {
  const chains = new Set(await listChains(redis, keys));
  const [last] = (await redis.xRevRange(keys.registry, '+', '-', { COUNT: 1 })) ?? [];
  const st = last ? parseRegistry(jwsPayload((last.message as Record<string, string>).jws ?? '')) : null;
  for (const c of Object.keys(st?.chains ?? {})) chains.add(c);
  return [...chains].sort();
}

export async function verifyLog(redis: Redis, keys: LogKeys, jwks: Jwks, opts: VerifyOptions = {}): Promise<VerifyResult> {
  // A retention run writes a registry statement before it trims anything.
  const lastCheckpoint = async () => ((await redis.xRevRange(keys.registry, '+', '-', { COUNT: 1 })) ?? [])[0]?.id ?? null;
  const before = await lastCheckpoint();
  const r = await verifyOnce(redis, keys, jwks, opts);
  // A retention run that trimmed during the scan looks like removed entries: check once more.
  if (!r.ok && (await lastCheckpoint()) !== before) return verifyOnce(redis, keys, jwks, opts);
  return r;
}

async function verifyOnce(redis: Redis, keys: LogKeys, jwks: Jwks, opts: VerifyOptions): Promise<VerifyResult> {
  const empty = { ok: false, entries: 0, chains: 0, checkpoints: 0, unsigned: 0, registry: 0 };
  const report = opts.onProgress ?? (() => undefined);
  report({ phase: 'checkpoints', chainsDone: 0, chainsTotal: 0, entries: 0 });
  // Issue [6/6] item 2: every chain has its own keys (its own slot); each is checked on its own.
  const chains = await verifyChains(redis, keys);
  const cps = await loadCheckpoints(redis, keys, jwks, chains);
  if (!(cps instanceof CheckpointIndex)) return { ...empty, brokenAt: cps };
  const registry = await loadRegistry(redis, keys, jwks, cps);
  if (typeof registry !== 'number') return { ...empty, checkpoints: cps.count, brokenAt: registry };
  // Heads before the scan: every entry up to them was stored before the scan began, so it must be seen.
  const headsBefore = await readHeads(redis, keys, chains);
  const v = new ChainVerifier(cps);
  let anchors: AnchorSummary | undefined;
  const tallies = await recipientsTallies(redis, keys, chains);
  const seams = v.seams();
  const result = (brokenAt?: BrokenAt): VerifyResult => ({
    ok: !brokenAt, entries: v.entries, chains: v.heads.size, checkpoints: cps.count, unsigned: v.unsigned(), registry,
    ...(anchors ? { anchors } : {}), ...(brokenAt ? { brokenAt } : {}), ...(seams.length ? { seams } : {}),
  });
  const progress = chainProgress(headsBefore, v);
  report(progress('entries'));
  for (const chain of chains) {
    const tally = tallies.get(chain)!;
    for await (const raw of scanStream(redis, keys.chain(chain).entries, { direction: 'asc' })) {
      const broken = v.feed(raw, chain);
      if (broken) return result(broken);
      tally.feed(raw);
      if (v.entries % PROGRESS_EVERY === 0) report(progress('entries'));
    }
  }
  const headsAfter = await readHeads(redis, keys, chains);
  const broken = v.finish(headsBefore, headsAfter);
  if (broken) return result(broken);
  report(progress('anchors'));
  if (opts.anchorsFile !== undefined) {
    // Read after the scans: a line in the file was stored in Redis before it was written.
    const a = await checkAnchors(redis, keys, readAnchors(opts.anchorsFile), cps, jwks, Date.now() - (opts.anchorGraceMs ?? 10_000));
    anchors = a.summary;
    if (a.brokenAt) return result(a.brokenAt);
  }
  // RULES 12: the index that addresses withdrawal notices must say what the entries say. Only
  // from an intact log: a rebuild must never launder tampered entries into the index.
  const trimmed = cps.chains().some((c) => cps.trimmedBelow(c, Infinity) > 0);
  report(progress('recipients'));
  const topology = opts.topology ?? singleTopology(redis);
  const recipients = await checkRecipients(redis, topology, keys, chains, tallies, { trimmed, repair: opts.repairRecipients === true });
  report(progress('done'));
  return { ...result(), ok: recipients.ok, recipients };
}

/** Progress by chain: a chain is done once the scan has reached the head it had when the scan began. */
function chainProgress(headsBefore: Record<string, string>, v: ChainVerifier) {
  const goal = Object.entries(headsBefore).map(([chain, h]) => [chain, Number(h.split(':')[0])] as const);
  return (phase: VerifyProgress['phase']): VerifyProgress => ({
    phase, entries: v.entries, chainsTotal: goal.length,
    chainsDone: phase === 'entries' ? goal.filter(([c, seq]) => (v.heads.get(c)?.seq ?? 0) >= seq).length : goal.length,
  });
}
