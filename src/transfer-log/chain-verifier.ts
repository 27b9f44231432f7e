// Recomputes the hash chains entry by entry, in stream order (issue 5). The first position where
// something is wrong is named: its chain, the seq that should be there, and what is there.
import { GENESIS, entryHash } from './entry.ts';
import { parseEntry, type RawEntry } from './scan.ts';
import type { Checkpoint } from './checkpoint.ts';
import type { Seam } from './seam.ts';

export interface BrokenAt {
  reason: 'malformed' | 'hash_mismatch' | 'sequence_break' | 'prev_hash_mismatch' | 'checkpoint_mismatch'
    | 'missing' | 'head_mismatch' | 'unknown_chain' | 'checkpoint_invalid' | 'checkpoint_conflict'
    // issue [3/6]: checkpoints of a chain not linked; registry statements not linked; a statement
    // in Redis the anchors file lacks (or a gap in the file); an anchors file line that does not verify
    | 'checkpoint_chain_break' | 'registry_break' | 'anchor_missing' | 'anchor_invalid';
  detail: string;
  chain: string | null;
  /** The chain position that is bad (for a removed entry: the one that is missing). */
  seq: number | null;
  /** Stream id of the entry found at that position (null when nothing is there). */
  streamId: string | null;
  /** Transfer id of the entry found there. */
  id: string | null;
  /** Stream id of the offending checkpoint, for checkpoint reasons. */
  checkpoint?: string;
  /** Line of the anchors file, for anchor reasons. */
  anchorLine?: number;
}

/** A signed statement seen in Redis, by statementHash (for the comparison with the anchors). */
export interface StoredStatement { stream: 'checkpoints' | 'registry'; id: string; chain: string | null; seq: number | null; sink: string | null }

/** Signed (chain, seq) -> hash, from verified checkpoints; trims also mark where a chain may resume. */
export class CheckpointIndex {
  private at = new Map<string, Map<number, string>>();
  private trims = new Map<string, number[]>();
  count = 0;
  /** Every signed statement read from Redis, by statementHash. */
  readonly statements = new Map<string, StoredStatement>();
  /** End statements of chains closed after a failure (seam.ts), by chain. */
  readonly ends = new Map<string, Checkpoint>();

  /** A registry claim: like a checkpoint (the chain must reach it), not counted as one. */
  claim(chain: string, seq: number, hash: string): boolean {
    const m = this.at.get(chain) ?? new Map<number, string>();
    this.at.set(chain, m);
    const had = m.get(seq);
    if (had !== undefined && had !== hash) return false;
    m.set(seq, hash);
    return true;
  }

  /** Returns false when a checkpoint contradicts an earlier one. */
  add(cp: Checkpoint): boolean {
    if (cp.kind === 'end' && cp.seq === 0) { this.count++; return true; } // closes a chain with nothing left in Redis
    const m = this.at.get(cp.chain) ?? new Map<number, string>();
    this.at.set(cp.chain, m);
    const had = m.get(cp.seq);
    if (had !== undefined && had !== cp.hash) return false;
    m.set(cp.seq, cp.hash);
    if (cp.kind === 'trim') this.trims.set(cp.chain, [...(this.trims.get(cp.chain) ?? []), cp.seq]);
    this.count++;
    return true;
  }
  /** Whether retention ever trimmed (and signed what it trimmed). */
  hasTrims(): boolean { return this.trims.size > 0; }
  hashAt(chain: string, seq: number): string | undefined { return this.at.get(chain)?.get(seq); }
  /** Highest trimmed seq below `seq` (0: none). */
  trimmedBelow(chain: string, seq: number): number {
    return (this.trims.get(chain) ?? []).reduce((m, s) => (s < seq && s > m ? s : m), 0);
  }
  maxSeq(chain: string): number {
    let m = 0;
    for (const s of this.at.get(chain)?.keys() ?? []) if (s > m) m = s;
    return m;
  }
  chains(): string[] { return [...this.at.keys()]; }
}

export class ChainVerifier {
  readonly heads = new Map<string, { seq: number; hash: string }>();
  entries = 0;

  constructor(private cps: CheckpointIndex) {}

  /** `chain`: the chain whose stream the entry was read from (each chain has its own, keys.ts). */
  feed(raw: RawEntry, chain: string): BrokenAt | null {
    const e = parseEntry(raw);
    const at = { streamId: raw.streamId, id: e?.id ?? null, chain: e?.chain ?? chain };
    if (!e) return { ...at, seq: null, reason: 'malformed', detail: 'not a transfer log entry' };
    if (e.chain !== chain) return { ...at, seq: e.seq, reason: 'unknown_chain', detail: `an entry of chain ${e.chain} is stored in chain ${chain}'s stream (inserted or moved)` };
    this.entries++;
    if (entryHash(e) !== e.hash) {
      return { ...at, seq: e.seq, reason: 'hash_mismatch', detail: `entry seq ${e.seq} does not match its hash (modified)` };
    }
    const st = this.heads.get(e.chain);
    const expected = st ? st.seq + 1 : this.cps.trimmedBelow(e.chain, e.seq) + 1;
    if (e.seq !== expected) {
      return { ...at, seq: expected, reason: st ? 'sequence_break' : 'missing',
        detail: `expected seq ${expected}, found seq ${e.seq} (entry removed, inserted or reordered)` };
    }
    const prev = st ? st.hash : expected === 1 ? GENESIS : this.cps.hashAt(e.chain, expected - 1);
    if (e.prevHash !== prev) {
      return { ...at, seq: e.seq, reason: 'prev_hash_mismatch', detail: `entry seq ${e.seq} does not follow the previous hash` };
    }
    const signed = this.cps.hashAt(e.chain, e.seq);
    if (signed !== undefined && signed !== e.hash) {
      return { ...at, seq: e.seq, reason: 'checkpoint_mismatch', detail: `entry seq ${e.seq} differs from its signed checkpoint` };
    }
    this.heads.set(e.chain, { seq: e.seq, hash: e.hash });
    return null;
  }

  /**
   * After the last entry. The head recorded before the scan began must be reached (its entries
   * were stored by then), and so must the highest checkpoint. The head recorded after the scan
   * must not be passed: the append script moves it with every entry, so what lies beyond it, or
   * on a chain with no head, was inserted.
   */
  finish(headsBefore: Record<string, string>, headsAfter: Record<string, string>): BrokenAt | null {
    const none = { streamId: null, id: null };
    const head = (h: Record<string, string>, chain: string) => {
      const [seq, hash] = (h[chain] ?? '0:').split(':');
      return { seq: Number(seq), hash: hash ?? '' };
    };
    for (const [chain, seen] of this.heads) {
      if (!(chain in headsAfter)) return { ...none, chain, seq: 1, reason: 'unknown_chain', detail: 'entries of a chain no writer recorded (inserted)' };
      const after = head(headsAfter, chain);
      if (after.seq < seen.seq || (after.seq === seen.seq && after.hash !== seen.hash)) {
        return { ...none, chain, seq: Math.min(after.seq + 1, seen.seq), reason: 'head_mismatch', detail: `chain runs to seq ${seen.seq} past its recorded head ${after.seq} (inserted or replaced)` };
      }
    }
    for (const chain of new Set([...Object.keys(headsBefore), ...this.cps.chains(), ...this.cps.ends.keys()])) {
      const end = this.cps.ends.get(chain);
      if (end) {
        const broken = this.checkEnd(chain, end);
        if (broken) return broken;
        continue;
      }
      const reach = Math.max(head(headsBefore, chain).seq, this.cps.maxSeq(chain));
      const last = this.heads.get(chain)?.seq ?? this.cps.trimmedBelow(chain, reach + 1);
      if (last < reach) return { ...none, chain, seq: last + 1, reason: 'missing', detail: `chain ends at seq ${last}, but reached seq ${reach}` };
    }
    return null;
  }

  /**
   * A chain closed after a failure (seam.ts): it must reach its end statement's seq, and nothing
   * signed for it may lie beyond what the writer sent. Seqs past the end were never released
   * unless `released` says otherwise: then entries of released data are gone, which fails.
   */
  private checkEnd(chain: string, end: Checkpoint): BrokenAt | null {
    const none = { streamId: null, id: null, chain };
    const last = this.heads.get(chain)?.seq ?? this.cps.trimmedBelow(chain, end.seq + 1);
    if (last < end.seq) return { ...none, seq: last + 1, reason: 'missing', detail: `chain ends at seq ${last}, but its end statement says ${end.seq}` };
    if (last > end.seq) return { ...none, seq: end.seq + 1, reason: 'head_mismatch', detail: `chain runs to seq ${last} past its end statement at seq ${end.seq} (inserted)` };
    if (end.released! > end.seq) {
      return { ...none, seq: end.seq + 1, reason: 'missing', detail: `chain was interrupted at seq ${end.seq}, but seqs up to ${end.released} had been released: their entries are lost` };
    }
    const signed = this.cps.maxSeq(chain);
    if (signed > end.sent!) return { ...none, seq: end.sent! + 1, reason: 'missing', detail: `a statement signs seq ${signed}, beyond seq ${end.sent} the writer sent before the chain was closed` };
    return null;
  }

  /** The explained chain ends (issue [6/6] item 4). */
  seams(): Seam[] {
    return [...this.cps.ends.values()].map((e) => ({ chain: e.chain, endSeq: e.seq, released: e.released!, lostUnreleased: Math.max(0, e.sent! - e.seq) }))
      .sort((a, b) => (a.chain < b.chain ? -1 : 1));
  }

  /** Entries not yet covered by any checkpoint (the live tail since the last one). */
  unsigned(): number {
    let n = 0;
    for (const [chain, h] of this.heads) n += h.seq - Math.min(h.seq, this.cps.maxSeq(chain));
    return n;
  }
}
