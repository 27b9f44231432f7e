// The transfer log as the app uses it (issue 5): createTransferLog(deps) once per process.
// The pull use cases append (and release nothing unless that resolves); the auditor routes
// query, follow, export, verify and list recipients; /.well-known/jwks.json serves `jwks`.
import type { Redis } from '../deps.ts';
import type { Logger } from '../log.ts';
import type { Config } from '../config/schema.ts';
import type { KeyMaterial } from '../keys/files.ts';
import { ConfigError } from '../config/load.ts';
import { checkpointSigner, syncCheckpointSigner } from './checkpoint.ts';
import { AnchorFile, type AnchorSink } from './anchor-file.ts';
import { jwsSigner } from './statement-signer.ts';
import { WitnessedSink, WitnessWorker } from './witness.ts';
import { webhookTls } from '../notices/webhook-tls.ts';
import { Checkpointer } from './checkpointer.ts';
import { publicJwks, type Jwks } from './jwks.ts';
import { logKeys, type LogKeys } from './keys.ts';
import { TransferQuery } from './query.ts';
import { recipientsOf, type Recipient } from './recipients.ts';
import { runRetention, scheduleRetention } from './retention.ts';
import { subjectRefFn } from './subject-ref.ts';
import { logStatus, type LogStatus } from './status.ts';
import { trimBefore, type TrimResult } from './trim.ts';
import { verifyLog, type VerifyOptions, type VerifyProgress, type VerifyResult } from './verify.ts';
import { TransferLogWriter } from './writer.ts';
import type { AppendInput } from './input.ts';
import type { TransferEntry } from './entry.ts';
import { observedVerify, timedAppend, type TransferLogObserver } from './observer.ts';
import { singleTopology, type LogTopology } from './topology.ts';

export interface TransferLogDeps {
  redis: Redis;
  keys: Pick<KeyMaterial, 'transferLog' | 'signingJwk'> & Partial<Pick<KeyMaterial, 'retiredSigningPublicJwks'>>;
  config: Pick<Config, 'transferLog' | 'retention' | 'redis'> & Partial<Pick<Config, 'notices'>>;
  log: Logger;
  /** Append latency and outcome, verify results (the gateway's metrics; absent in tools and tests). */
  observer?: TransferLogObserver;
  /** RULES 50: told of every verify result; a failed one opens an incident (must not throw). */
  onVerified?: (r: VerifyResult) => void;
  /**
   * Issue [6/6] item 4: WAIT on the primary owning a chain, CONFIG GET and SCAN on every primary
   * (deps.redisTopology, src/redis/topology.ts). Default: single mode, the one client is the primary.
   */
  topology?: LogTopology;
}

export interface TransferLogOptions {
  /** Redis key prefix (hash tag); tests and benches may isolate themselves. */
  keyPrefix?: string;
  now?: () => Date;
  /** Longest agreement term in days, for the default retention (agreements module). */
  longestAgreementTermDays?: () => Promise<number | null>;
  /** An anchor sink instead of the file named by transferLog.anchors.file (tests). */
  anchors?: AnchorSink;
  /** Post to the witness on a timer (default true; tests drain by hand). */
  startWitness?: boolean;
  /** Run the retention job on a timer (default true). */
  scheduleRetention?: boolean;
}

export interface TransferLog {
  /** Durable before it resolves; rejects with Problem 503 `audit_unavailable` (or InvalidEntry). */
  append(input: AppendInput): Promise<TransferEntry>;
  appendMany(inputs: AppendInput[]): Promise<TransferEntry[]>;
  query: TransferQuery;
  /** Checks the chains, checkpoints and registry, and the configured anchors file (issue [3/6]); `onProgress` for the console (issue 16). */
  verify(opts?: Pick<VerifyOptions, 'onProgress'>): Promise<VerifyResult>;
  recipients(userId: string): Promise<{ items: Recipient[] }>;
  /** Heads, newest checkpoints and registry statement, witness backlog (issue 16: the console's integrity page). */
  status(): Promise<LogStatus>;
  subjectRef(userId: string): string;
  jwks: Jwks;
  runRetention(): Promise<TrimResult>;
  trimBefore(cutoffMs: number): Promise<TrimResult>;
  /** Sign a checkpoint of every chain that moved now (also done every N entries / T ms). */
  checkpointNow(): Promise<void>;
  writer: TransferLogWriter;
  /** The HTTPS witness's worker, when transferLog.anchors.witnessUrl is set. */
  witness: WitnessWorker | null;
  keys: LogKeys;
  close(): Promise<void>;
}

export function createTransferLog(deps: TransferLogDeps, opts: TransferLogOptions = {}): TransferLog {
  const { redis, log } = deps;
  const cfg = deps.config.transferLog;
  // Issue [6/6] item 4: with Sentinel or Cluster an entry is durable only once a replica has it too.
  const replicas = cfg.replicas ?? (deps.config.redis.mode === 'single' ? 0 : 1);
  if (replicas > 0 && cfg.waitTimeoutMs >= deps.config.redis.commandTimeoutMs) {
    throw new ConfigError(`transferLog.waitTimeoutMs must be below redis.commandTimeoutMs (${deps.config.redis.commandTimeoutMs})`);
  }
  const keys = logKeys(opts.keyPrefix);
  const topology = deps.topology ?? singleTopology(redis);
  const subjectRef = subjectRefFn(deps.keys.transferLog);
  const sign = checkpointSigner(deps.keys.signingJwk, opts.now);
  const jwks = publicJwks(deps.keys.signingJwk, deps.keys.retiredSigningPublicJwks ?? []);
  const file = opts.anchors ?? new AnchorFile(cfg.anchors.file);
  // Issue [3/6] item 3: the optional HTTPS witness, posted to like a notice webhook.
  const witness = cfg.anchors.witnessUrl && deps.config.notices ? new WitnessWorker({
    redis, queueKey: keys.witness, url: cfg.anchors.witnessUrl, log, intervalMs: deps.config.notices.workerIntervalMs,
    webhook: { tls: webhookTls(deps.config.notices.webhookCa), allowLoopback: deps.config.notices.allowLoopbackWebhooks, timeoutMs: deps.config.notices.timeoutMs },
  }) : null;
  if (cfg.anchors.witnessUrl && !witness) throw new ConfigError('transferLog.anchors.witnessUrl needs the notices settings (webhookCa, timeoutMs)');
  const anchors = witness ? new WitnessedSink(file, redis, keys.witness) : file;
  // Opened (and its sink line written) at start, so this instance's own verify has a file to check
  // against even before its first append; a sink that cannot be opened fails the appends (503).
  try { anchors.sinkId(); } catch { /* the first append reports it */ }
  if (opts.startWitness !== false) witness?.start();
  const checkpointer = new Checkpointer({ redis, keys, sign: jwsSigner(deps.keys.signingJwk), anchors, log, every: cfg.checkpointEvery,
    intervalMs: cfg.checkpointIntervalMs, timeoutMs: deps.config.redis.commandTimeoutMs, ...(opts.now ? { now: opts.now } : {}),
  });
  const writer = new TransferLogWriter({
    redis, topology, keys, subjectRef, checkpointer, signBatch: syncCheckpointSigner(deps.keys.signingJwk, opts.now), anchors,
    log, replicas, waitTimeoutMs: cfg.waitTimeoutMs,
    timeoutMs: deps.config.redis.commandTimeoutMs,
    maxBatch: cfg.maxBatch, durabilityAssertedBy: cfg.durabilityAssertedBy, durabilityCheckIntervalMs: cfg.durabilityCheckIntervalMs,
    ...(opts.now ? { now: opts.now } : {}),
  });
  const retention = {
    redis, keys, jwks, sign, signStatement: jwsSigner(deps.keys.signingJwk), anchors, log, config: deps.config, intervalMs: cfg.trimIntervalMs,
    ...(opts.longestAgreementTermDays ? { longestAgreementTermDays: opts.longestAgreementTermDays } : {}),
  };
  const job = opts.scheduleRetention === false ? null : scheduleRetention(retention);
  return {
    append: (input) => timedAppend(deps.observer, () => writer.append(input)),
    appendMany: (inputs) => timedAppend(deps.observer, () => writer.appendMany(inputs)),
    query: new TransferQuery(redis, keys, subjectRef, cfg.maxScan),
    verify: (o = {}) => observedVerify(deps.observer, async () => {
      const r = await verifyLog(redis, keys, jwks, { anchorsFile: cfg.anchors.file, topology, ...(o.onProgress ? { onProgress: o.onProgress } : {}) });
      deps.onVerified?.(r);
      return r;
    }),
    recipients: (userId) => recipientsOf(redis, keys, subjectRef, userId),
    status: () => logStatus({ redis, keys, jwks, witness }),
    subjectRef,
    jwks,
    runRetention: () => runRetention(retention),
    trimBefore: (cutoffMs) => trimBefore(retention, cutoffMs),
    checkpointNow: () => checkpointer.flush(),
    writer,
    witness,
    keys,
    async close() {
      job?.stop();
      await writer.close();
      await checkpointer.close();
      await witness?.close();
      anchors.close();
    },
  };
}

export type { LogStatus, ChainStatus } from './status.ts';
export type { AppendInput, TransferEntry, VerifyResult, VerifyProgress, Recipient, TrimResult, Jwks };
export type { TransferLogObserver, AppendOutcome, VerifyOutcome } from './observer.ts';
export { InvalidEntry } from './input.ts';
export { auditUnavailable } from './writer.ts';
export type { TransferFilter } from './filter.ts';
export type { LoggedEntry } from './scan.ts';
export type { BrokenAt } from './chain-verifier.ts';
