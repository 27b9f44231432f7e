// The transfer log writer (issue 5, RULES 48, DESIGN 2 "log before release"). One hash chain per
// writer, so instances never contend. Appends made while a batch is in flight are grouped into
// the next one (group commit): concurrency batches instead of serialising, and one batch at a
// time keeps the chain's order equal to its stream order.
import { randomBytes } from 'node:crypto';
import type { Redis } from '../deps.ts';
import type { Logger } from '../log.ts';
import { Problem } from '../http/problem.ts';
import { GENESIS, sealEntry, type EntryBody, type TransferEntry } from './entry.ts';
import { entryBody, type AppendInput } from './input.ts';
import { runAppend } from './append-script.ts';
import { checkDurability } from './durability.ts';
import type { LogTopology } from './topology.ts';
import { deadline } from './deadline.ts';
import type { Checkpointer } from './checkpointer.ts';
import type { SyncCheckpointSigner } from './checkpoint.ts';
import type { AnchorSink } from './anchor-file.ts';
import { statementHash } from './statement-signer.ts';
import type { LogKeys } from './keys.ts';
import type { SubjectRefFn } from './subject-ref.ts';

export interface WriterOptions {
  redis: Redis;
  /** Issue 18: CONFIG GET on every primary, WAIT on the primary owning the chain's keys. */
  topology: LogTopology;
  keys: LogKeys;
  subjectRef: SubjectRefFn;
  checkpointer: Checkpointer;
  /** Signs each batch before it is stored (issue [3/6] item 1). */
  signBatch: SyncCheckpointSigner;
  /** Each batch checkpoint is anchored here before the append resolves (null: no anchor sink). */
  anchors: AnchorSink | null;
  log: Logger;
  /** WAIT for this many replicas after each batch (0: none). */
  replicas: number;
  waitTimeoutMs: number;
  /** Deadline for one batch's reply (redis.commandTimeoutMs). */
  timeoutMs: number;
  maxBatch: number;
  /** transferLog.durabilityAssertedBy: who vouches for a Redis that hides CONFIG (null: refuse it). */
  durabilityAssertedBy: string | null;
  /** transferLog.durabilityCheckIntervalMs: how long one passed durability check stands. */
  durabilityCheckIntervalMs: number;
  now?: () => Date;
}

interface Pending { entry: TransferEntry; resolve(e: TransferEntry): void; reject(e: Error): void }

// CONTRACT 6 step 11: the caller releases nothing and answers 503.
export const auditUnavailable = () =>
  new Problem({ status: 503, code: 'audit_unavailable', detail: 'the transfer log could not be written; nothing was released' });

export class TransferLogWriter {
  chain = newChainId();
  private seq = 0;
  private prevHash = GENESIS;
  /** statementHash of this chain's last batch checkpoint: the next one signs it (item 2). */
  private prevCheckpoint = GENESIS;
  private queue: Pending[] = [];
  /** Batch checkpoints whose append failed without an answer: Redis may still have run it. */
  private unresolved: string[] = [];
  /** Batches stored, their anchor line on its way (pipelined with the next batch). */
  private releasing = new Set<Promise<void>>();
  /** Chains a stored batch of which could not be anchored: nothing more of them is released. */
  private brokenChains = new Set<string>();
  private draining: Promise<void> | null = null;
  /** Until when (ms, wall clock) the last passed durability check stands; 0: check before the next batch. */
  private durableUntil = 0;
  private lastProblem = '';
  private closed = false;
  readonly stats = { appended: 0, batches: 0, failedBatches: 0, chains: 1 };
  // Redis may come back from a reconnect with another configuration (or be another server).
  private readonly recheck = () => { this.durableUntil = 0; };

  constructor(private o: WriterOptions) {
    o.redis.on('ready', this.recheck);
    if (o.durabilityAssertedBy !== null) {
      // Said at start, so whoever reads the log sees whose word replaces the check (item 7a).
      o.log.warn({ setting: 'transferLog.durabilityAssertedBy', assertedBy: o.durabilityAssertedBy },
        'transferLog.durabilityAssertedBy is set: a redis that hides CONFIG is trusted on this assertion');
    }
  }

  /** Resolves once the entry is durable; rejects with a 503 `audit_unavailable` Problem otherwise. */
  async append(input: AppendInput): Promise<TransferEntry> {
    return (await this.appendMany([input]))[0]!;
  }

  /** All or nothing for the caller: any failure rejects, and then nothing may be released. */
  appendMany(inputs: AppendInput[]): Promise<TransferEntry[]> {
    let bodies: EntryBody[];
    try {
      bodies = inputs.map((i) => entryBody(i, this.o.subjectRef, this.o.now?.() ?? new Date())); // InvalidEntry before anything is queued
    } catch (e) {
      return Promise.reject(e);
    }
    // Fail fast rather than queue behind an outage: a backlog only turns into late 503s.
    if (this.closed || (this.queue.length > 0 && this.queue.length + bodies.length > this.o.maxBatch * 20)) {
      return Promise.reject(auditUnavailable());
    }
    // Sealed now, while an earlier batch is in flight, so hashing overlaps Redis's work.
    const done = bodies.map((body) => new Promise<TransferEntry>((resolve, reject) => this.queue.push({ entry: this.seal(body), resolve, reject })));
    this.draining ??= this.drain();
    return Promise.all(done);
  }

  /** Waits for queued appends; later appends fail with 503. */
  async close(): Promise<void> {
    this.closed = true;
    this.o.redis.off('ready', this.recheck);
    await this.draining;
    await Promise.all(this.releasing);
  }

  private async drain(): Promise<void> {
    // One turn of the event loop first: appends made by callbacks of the same turn (and by the
    // callers the last batch just released) join this batch instead of waiting for the next.
    while ((await new Promise((r) => setImmediate(r)), this.queue.length)) {
      await this.write(this.queue.splice(0, this.o.maxBatch));
    }
    this.draining = null;
  }

  private seal(body: EntryBody): TransferEntry {
    const e = sealEntry(body, this.chain, ++this.seq, this.prevHash);
    this.prevHash = e.hash;
    return e;
  }

  private async write(items: Pending[]): Promise<void> {
    const entries = items.map((it) => it.entry);
    const first = entries[0]!;
    const last = entries[entries.length - 1]!;
    // Statements whose batch failed unanswered before this one is sent: final once this one is stored.
    const settle = this.unresolved.splice(0);
    let jws = '';
    let ids: string[];
    try {
      await deadline(this.ensureDurable(), this.o.timeoutMs);
      // The chain ended meanwhile (an earlier batch lost its anchor): these were sealed on it.
      if (last.chain !== this.chain) throw new Error('the chain ended before this batch was written');
      const sink = this.o.anchors?.sinkId(); // an anchors file that cannot be opened fails here, before Redis
      // Issue [3/6] item 1: the batch is signed before it is stored, and stored with its signature.
      jws = this.o.signBatch({ kind: 'batch', chain: last.chain, first: first.seq, seq: last.seq, hash: last.hash,
        prev: this.prevCheckpoint, ...(sink ? { sink } : {}) });
      ids = await deadline(runAppend(this.o.redis, this.o.keys, entries, jws), this.o.timeoutMs);
    } catch (e) {
      // Timed out (Redis may still run it) or cut short: see anchorUnresolved.
      this.unresolved.push(...settle, ...(jws ? [jws] : []));
      this.failed(items, e, false);
      // A batch that may or may not be in Redis (connection lost, timeout) ends this chain, and
      // so do the appends queued behind it (sealed on it, and Redis is likely still unwell): all
      // fail now, and the next append starts a new chain, so no chain has a gap or a fork.
      this.endChain(last.chain);
      return;
    }
    if (last.chain === this.chain) this.prevCheckpoint = statementHash(jws);
    // Pipelined: this batch's anchor line is written and synced while the next batch goes to
    // Redis; nothing of it is released before its line is synced.
    const p = this.release(items, entries, jws, ids[ids.length - 1]!, settle);
    this.releasing.add(p);
    void p.finally(() => this.releasing.delete(p));
  }

  /** Item 3: anchored outside Redis before anything is released; a sink that cannot be written fails the append (503). */
  private async release(items: Pending[], entries: TransferEntry[], jws: string, checkpointId: string, settle: string[]): Promise<void> {
    const last = entries[entries.length - 1]!;
    let anchored = false;
    try {
      await deadline(this.o.anchors?.append([{ stream: 'checkpoints', id: checkpointId, jws }]) ?? Promise.resolve(), this.o.timeoutMs);
      anchored = true;
      // An earlier batch of this chain lost its anchor: the file's links break there, so release nothing after it.
      if (this.brokenChains.has(last.chain)) throw new Error('an earlier batch of this chain could not be anchored');
      if (settle.length) await this.anchorUnresolved(settle);
      this.o.checkpointer.advanced(last.chain, last.seq, last.hash);
      await this.waitReplicas();
      this.stats.appended += entries.length;
      this.stats.batches++;
      items.forEach((it, n) => it.resolve(entries[n]!));
    } catch (e) {
      if (!anchored) this.unresolved.push(...settle);
      this.failed(items, e, true);
      // Stored but not anchored: the chain ends here, so no later anchor chains onto a missing line.
      if (!anchored) {
        this.brokenChains.add(last.chain);
        this.endChain(last.chain);
      }
    }
  }

  private failed(items: Pending[], e: unknown, stored: boolean): void {
    this.stats.failedBatches++;
    this.o.log.warn({ err: { message: (e as Error).message }, chain: items[0]?.entry.chain, entries: items.length, stored }, 'transfer log append failed');
    items.forEach((it) => it.reject(auditUnavailable()));
  }

  /** Fails what is queued on `chain` (sealed on it) and starts a new chain, once per chain. */
  private endChain(chain: string): void {
    if (this.chain !== chain) return;
    for (const it of this.queue.splice(0)) it.reject(auditUnavailable());
    this.rotate();
  }

  /**
   * A batch that timed out may have been run by Redis after all (a stopped Redis resumes). Its
   * entries were never released, but its checkpoint names this anchor sink, so verify would miss
   * its line: once a batch sent after it has been stored (Redis runs a connection's commands in
   * order), what is in Redis is final, and the line is written for whatever is there.
   */
  private async anchorUnresolved(settle: string[]): Promise<void> {
    const recent = ((await this.o.redis.xRevRange(this.o.keys.checkpoints, '+', '-', { COUNT: 1000 })) ?? []);
    const lines = recent.filter((m) => settle.includes((m.message as Record<string, string>).jws ?? ''))
      .map((m) => ({ stream: 'checkpoints' as const, id: m.id, jws: (m.message as Record<string, string>).jws! })).reverse();
    if (lines.length) await this.o.anchors?.append(lines);
  }

  private rotate(): void {
    this.chain = newChainId();
    this.seq = 0;
    this.prevHash = GENESIS;
    this.prevCheckpoint = GENESIS;
    this.durableUntil = 0; // Redis may have come back with another configuration
    this.stats.chains++;
  }

  // Repeated every durabilityCheckIntervalMs (and after a reconnect or failed batch), not once per
  // chain: a Redis switched to appendfsync everysec at run time is refused within one interval.
  private async ensureDurable(): Promise<void> {
    if (Date.now() < this.durableUntil) return;
    // Issue 18: every primary must be durable (in cluster mode any of them may hold a chain).
    const all = await this.o.topology.forEachPrimary((node) => checkDurability(node, this.o.durabilityAssertedBy));
    const c = all.find((r) => !r.ok) ?? all[0]!;
    if (!c.ok) {
      // Once per distinct problem, not once per refused batch.
      if (c.problem !== this.lastProblem) this.o.log.error({ problem: c.problem }, 'transfer log refuses a non-durable redis');
      this.lastProblem = c.problem;
      throw new Error(c.problem);
    }
    this.lastProblem = '';
    this.durableUntil = Date.now() + this.o.durabilityCheckIntervalMs;
  }

  /** Issue 5: when config names replicas, the batch counts only once they have it too. */
  private async waitReplicas(): Promise<void> {
    const { replicas, waitTimeoutMs } = this.o;
    if (replicas <= 0) return;
    // WAIT is sent on the connection that wrote the batch, so it covers exactly that write.
    const acked = await deadline(this.o.topology.waitReplicas(this.o.keys.entries, replicas, waitTimeoutMs), waitTimeoutMs + this.o.timeoutMs);
    if (acked < replicas) throw new Error(`WAIT: ${acked} of ${replicas} replicas acknowledged within ${waitTimeoutMs} ms`);
  }
}

/** A fresh chain id per writer start and after a failed batch (random: instances never collide). */
export const newChainId = () => randomBytes(9).toString('base64url');
