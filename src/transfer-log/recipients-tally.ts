// Recomputes the recipients index from the entries (issue 15 item 5; RULES 12): what the append
// script would have written for each subject, fed one entry at a time in stream order.
import type { Redis } from '../deps.ts';
import type { LogKeys } from './keys.ts';
import { recipientFacets } from './recipients.ts';
import { parseEntry, type RawEntry } from './scan.ts';
import type { RecordParts } from './recipients-reconcile.ts';

/** One partner's releases to one subject; a verify holds one per (subject, partner), so it is small. */
interface Tallied { partnerId: string; count: number; firstMs: number; lastMs: number; facets: string }

/**
 * Recomputes every record from the entries, fed in stream order. Memory grows with the number of
 * (subject, partner) pairs in the log (about 250 bytes each): times as ms, and each distinct set
 * of facets held once and shared (entries' `at` are toISOString() values, input.ts).
 */
export class RecipientsTally {
  readonly subjects = new Map<string, Tallied[]>();
  /** Holds the subjects of partition `part` of `parts` only (one pass each; see recipientsTally). */
  constructor(readonly part = 0, readonly parts = 1) {}
  /** Stream id of the last entry fed ('0-0': none). */
  last = '0-0';
  /** The earliest `at` among the entries still in the log (ms; null: none). */
  oldestMs: number | null = null;
  private sets = new Map<string, string>();
  private merged = new Map<string, string>();

  feed(raw: RawEntry): void {
    this.last = raw.streamId;
    const e = parseEntry(raw);
    if (!e) return;
    const at = Date.parse(e.at);
    if (this.oldestMs === null || at < this.oldestMs) this.oldestMs = at;
    // Exactly what the append script indexes: released entries with a subject and a partner.
    if (e.decision !== 'released' || !e.subjectRef || !e.partnerId || !this.holds(e.subjectRef)) return;
    const facets = this.intern(recipientFacets(e).sort().join('\n'));
    const parts = this.subjects.get(e.subjectRef);
    const p = parts?.find((x) => x.partnerId === e.partnerId);
    if (!p) {
      const fresh: Tallied = { partnerId: this.intern(e.partnerId), count: 1, firstMs: at, lastMs: at, facets };
      // A one-element literal: an empty array grown by push reserves room for 16.
      if (parts) parts.push(fresh);
      else this.subjects.set(e.subjectRef, [fresh]);
      return;
    }
    p.count++;
    if (at < p.firstMs) p.firstMs = at;
    if (at > p.lastMs) p.lastMs = at;
    if (p.facets !== facets) p.facets = this.union(p.facets, facets);
  }

  /** The record the entries fed so far determine, in the shape reconcile compares. */
  record(subjectRef: string): RecordParts | undefined {
    const parts = this.subjects.get(subjectRef);
    if (!parts) return undefined;
    return new Map(parts.map((p) => [p.partnerId, {
      count: p.count, first: new Date(p.firstMs).toISOString(), last: new Date(p.lastMs).toISOString(), facets: new Set(p.facets.split('\n')),
    }]));
  }

  holds(subjectRef: string): boolean {
    return this.parts === 1 || partOf(subjectRef, this.parts) === this.part;
  }

  get oldestAt(): string | null { return this.oldestMs === null ? null : new Date(this.oldestMs).toISOString(); }

  private intern(s: string): string {
    const had = this.sets.get(s);
    if (had !== undefined) return had;
    this.sets.set(s, s);
    return s;
  }

  private union(a: string, b: string): string {
    const key = `${a}\t${b}`;
    let u = this.merged.get(key);
    if (u === undefined) {
      u = this.intern([...new Set([...a.split('\n'), ...b.split('\n')])].sort().join('\n'));
      if (this.merged.size > 10_000) this.merged.clear(); // a cache, not a record: bounded
      this.merged.set(key, u);
    }
    return u;
  }
}

// subjectRefs are HMAC outputs (base64url), so their first two characters spread evenly.
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
export function partOf(subjectRef: string, parts: number): number {
  return (Math.max(0, B64URL.indexOf(subjectRef[0] ?? 'A')) * 64 + Math.max(0, B64URL.indexOf(subjectRef[1] ?? 'A'))) % parts;
}

/** Entries per pass: bounds a verify's memory to about 125 MB however long the log (250 B a pair). */
export const ENTRIES_PER_PASS = 500_000;

/**
 * The first pass's tally of each chain (recipients records are per chain, keys.ts), fed by verify's
 * chain scan; checkRecipients runs any further passes itself. The passes are sized on the whole log.
 */
export async function recipientsTallies(redis: Redis, keys: LogKeys, chains: readonly string[], perPass = ENTRIES_PER_PASS): Promise<Map<string, RecipientsTally>> {
  const total = (await Promise.all(chains.map((c) => redis.xLen(keys.chain(c).entries)))).reduce((a, b) => a + b, 0);
  const parts = Math.max(1, Math.ceil(total / perPass));
  return new Map(chains.map((c) => [c, new RecipientsTally(0, parts)]));
}
