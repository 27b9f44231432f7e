// The transfer log writer (issue 5, RULES 48, DESIGN 2 "log before release"). One hash chain per
// writer, so instances never contend. Appends made while a batch is in flight are grouped into
// the next one (group commit): concurrency batches instead of serialising, and one batch at a
// time keeps the chain's order equal to its stream order.
import { randomBytes } from 'node:crypto';
import type { Redis } from '../deps.ts';
import type { Logger } from '../log.ts';
import { Problem } from '../http/problem.ts';
import { GENESIS, sealEntryText, type EntryBody, type TransferEntry } from './entry.ts';
import { entryBody, type AppendInput } from './input.ts';
import { runAppend } from './append-script.ts';
import { closeChain } from './seam.ts';
import type { LogTopology } from './topology.ts';
import { checkDurability } from './durability.ts';
import { deadline } from './deadline.ts';
import type { Checkpointer } from './checkpointer.ts';
import type { SyncCheckpointSigner } from './checkpoint.ts';
import type { AnchorSink } from './anchor-file.ts';
import { statementHash } from './statement-signer.ts';
import type { LogKeys } from './keys.ts';
import type { SubjectRefFn } from './subject-ref.ts';

export interface WriterOptions {
  redis: Redis;
  /** WAIT and CONFIG GET go through it (issue [6/6] item 4). */
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

interface Pending { entry: TransferEntry; text: string; resolve(e: TransferEntry): void; reject(e: Error): void }

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
  private unresolved: Array<{ chain: string; jws: string }> = [];
  /** Highest seq of the current chain sent to Redis. */
  private sent = 0;
  /** Highest seq released to callers, per chain (read when a chain is closed). */
  private releasedBy = new Map<string, number>();
  /** Chains ended by a failure whose end statement is not written yet (seam.ts). */
  private ended: Array<{ chain: string; sent: number }> = [];
  private registered = false;
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
    const done = bodies.map((body) => new Promise<TransferEntry>((resolve, reject) => {
      const { entry, text } = this.seal(body);
      this.queue.push({ entry, text, resolve, reject });
    }));
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

  private seal(body: EntryBody): { entry: TransferEntry; text: string } {
    const sealed = sealEntryText(body, this.chain, ++this.seq, this.prevHash);
    this.prevHash = sealed.entry.hash;
    return sealed;
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
      // Issue [6/6] item 4: chains a failure interrupted are closed (an explained seam) before the new one goes on.
      if (this.ended.length) await deadline(this.closeEnded(sink ?? null), this.o.timeoutMs);
      // Issue [6/6] item 2: the chain is made findable once, before its first entry (a global key, another slot).
      if (!this.registered) {
        await deadline(this.o.redis.sAdd(this.o.keys.chains, last.chain), this.o.timeoutMs);
        this.registered = true;
      }
      // Issue [3/6] item 1: the batch is signed before it is stored, and stored with its signature.
      jws = this.o.signBatch({ kind: 'batch', chain: last.chain, first: first.seq, seq: last.seq, hash: last.hash,
        prev: this.prevCheckpoint, ...(sink ? { sink } : {}) });
      this.sent = last.seq;
      ids = await deadline(runAppend(this.o.redis, this.o.keys.chain(last.chain), entries, jws, items.map((it) => it.text)), this.o.timeoutMs);
    } catch (e) {
      // Timed out (Redis may still run it) or cut short: see anchorUnresolved.
      this.unresolved.push(...settle, ...(jws ? [{ chain: last.chain, jws }] : []));
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
  private async release(items: Pending[], entries: TransferEntry[], jws: string, checkpointId: string, settle: Array<{ chain: string; jws: string }>): Promise<void> {
    const last = entries[entries.length - 1]!;
    let anchored = false;
    try {
      await deadline(this.o.anchors?.append([{ stream: 'checkpoints', id: checkpointId, jws }]) ?? Promise.resolve(), this.o.timeoutMs);
      anchored = true;
      // An earlier batch of this chain lost its anchor: the file's links break there, so release nothing after it.
      if (this.brokenChains.has(last.chain)) throw new Error('an earlier batch of this chain could not be anchored');
      if (settle.length) await this.anchorUnresolved(settle);
      await this.waitReplicas(last.chain);
      // Issue [6/6] item 4: the registry names only what a replica has too (what survives a failover).
      this.o.checkpointer.advanced(last.chain, last.seq, last.hash);
      this.releasedBy.set(last.chain, Math.max(this.releasedBy.get(last.chain) ?? 0, last.seq));
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
    // A chain that sent something may have left entries (or anchor lines) behind: it gets an end statement.
    if (this.sent > 0) this.ended.push({ chain, sent: this.sent });
    this.rotate();
  }

  /** Writes the end statement of every chain a failure interrupted (seam.ts); throws if Redis cannot take it yet. */
  private async closeEnded(sink: string | null): Promise<void> {
    // Batches of an ended chain may still be on their way to release: what they release counts.
    await Promise.all(this.releasing);
    while (this.ended.length) {
      const end = this.ended[0]!;
      const released = this.releasedBy.get(end.chain) ?? 0;
      const closed = await closeChain(this.o.redis, this.o.keys.chain(end.chain), { chain: end.chain, sent: end.sent, released, sink }, this.o.signBatch);
      await this.o.anchors?.append([closed.line]);
      this.ended.shift();
      this.releasedBy.delete(end.chain);
      this.o.log.warn({ chain: end.chain, endSeq: closed.seq, released, sent: end.sent }, 'transfer log chain closed after a failure (seam)');
    }
  }

  /**
   * A batch that timed out may have been run by Redis after all (a stopped Redis resumes). Its
   * entries were never released, but its checkpoint names this anchor sink, so verify would miss
   * its line: once a batch sent after it has been stored (Redis runs a connection's commands in
   * order), what is in Redis is final, and the line is written for whatever is there.
   */
  private async anchorUnresolved(settle: Array<{ chain: string; jws: string }>): Promise<void> {
    for (const chain of new Set(settle.map((s) => s.chain))) {
      const jwss = settle.filter((s) => s.chain === chain).map((s) => s.jws);
      const recent = ((await this.o.redis.xRevRange(this.o.keys.chain(chain).checkpoints, '+', '-', { COUNT: 1000 })) ?? []);
      const lines = recent.filter((m) => jwss.includes((m.message as Record<string, string>).jws ?? ''))
        .map((m) => ({ stream: 'checkpoints' as const, id: m.id, jws: (m.message as Record<string, string>).jws! })).reverse();
      if (lines.length) await this.o.anchors?.append(lines);
    }
  }

  private rotate(): void {
    this.chain = newChainId();
    this.seq = 0;
    this.prevHash = GENESIS;
    this.prevCheckpoint = GENESIS;
    this.sent = 0;
    this.registered = false;
    this.durableUntil = 0; // Redis may have come back with another configuration
    this.stats.chains++;
  }

  // Repeated every durabilityCheckIntervalMs (and after a reconnect or failed batch), not once per
  // chain: a Redis switched to appendfsync everysec at run time is refused within one interval.
  private async ensureDurable(): Promise<void> {
    if (Date.now() < this.durableUntil) return;
    const c = await checkDurability(this.o.topology, this.o.durabilityAssertedBy);
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
  private async waitReplicas(chain: string): Promise<void> {
    const { replicas, waitTimeoutMs } = this.o;
    if (replicas <= 0) return;
    // WAIT on the primary that owns the chain's slot (topology.ts), on the connection that wrote the batch.
    const acked = await deadline(this.o.topology.waitReplicas(this.o.keys.chain(chain).head, replicas, waitTimeoutMs), waitTimeoutMs + this.o.timeoutMs);
    if (acked < replicas) throw new Error(`WAIT: ${acked} of ${replicas} replicas acknowledged within ${waitTimeoutMs} ms`);
  }
}

/** A fresh chain id per writer start and after a failed batch (random: instances never collide). */
export const newChainId = () => randomBytes(9).toString('base64url');
