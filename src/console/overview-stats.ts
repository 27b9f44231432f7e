// The overview's figures (pure): log entries are folded into one-minute buckets as they arrive,
// and the figures for the last hour, day and week — released vs denied, top denial reasons,
// partners by released volume, the cross-border share — and the per-minute series of the last
// hour are summed from the buckets. Folding only what is new keeps a refresh cheap however many
// entries the week holds (issue 16: each page under 1 s with 100,000 entries).
import type { TransferEntry } from '../transfer-log/entry.ts';
import type { BucketCounts } from './overview-snapshot.ts';

export const WINDOWS = { hour: 3_600_000, day: 86_400_000, week: 7 * 86_400_000 } as const;
export type WindowName = keyof typeof WINDOWS;
const MINUTE = 60_000;
const EGRESS_GUARD = 'egress_guard';

export interface WindowStats {
  released: number;
  denied: number;
  /** Denial reason codes, most frequent first (top 10). */
  reasons: Array<[string, number]>;
  /** Partner ids by released transfers, most first (top 10). */
  partners: Array<[string, number]>;
  /** Released transfers with a cross-border basis (adequacy or consent). */
  crossBorder: number;
  /** Transfers the egress guard stopped (RULES 9: a correspondence key or canary in the payload). */
  egressGuard: number;
}

export interface Series { x: number[]; released: number[]; denied: number[] }

/** The chart of each window (issue 16: charts over the last hour, day and week): its step. */
export const STEPS: Record<WindowName, number> = { hour: MINUTE, day: 15 * MINUTE, week: 60 * MINUTE };

export interface OverviewStats {
  windows: Record<WindowName, WindowStats>;
  /** 60 one-minute buckets ending with the current minute; x in unix seconds (uPlot's unit). */
  perMinute: Series;
  /** Per window, released and denied per STEPS[w] (60, 96 and 168 points), ending with the current step. */
  series: Record<WindowName, Series>;
  /** Entries folded in so far; `truncated` while the first read of the week is not complete. */
  scanned: number;
  truncated: boolean;
  at: string;
}

class Tally {
  released = 0;
  denied = 0;
  crossBorder = 0;
  egressGuard = 0;
  readonly reasons = new Map<string, number>();
  readonly partners = new Map<string, number>();

  add(e: TransferEntry): void {
    if (e.decision === 'released') {
      this.released++;
      if (e.crossBorderBasis && e.crossBorderBasis !== 'domestic') this.crossBorder++;
      if (e.partnerId) this.partners.set(e.partnerId, (this.partners.get(e.partnerId) ?? 0) + 1);
    } else {
      this.denied++;
      const r = e.reason ?? 'unknown';
      if (r === EGRESS_GUARD) this.egressGuard++;
      this.reasons.set(r, (this.reasons.get(r) ?? 0) + 1);
    }
  }

  merge(o: Tally): void {
    this.released += o.released;
    this.denied += o.denied;
    this.crossBorder += o.crossBorder;
    this.egressGuard += o.egressGuard;
    for (const [k, n] of o.reasons) this.reasons.set(k, (this.reasons.get(k) ?? 0) + n);
    for (const [k, n] of o.partners) this.partners.set(k, (this.partners.get(k) ?? 0) + n);
  }

  counts(): BucketCounts {
    return { released: this.released, denied: this.denied, crossBorder: this.crossBorder, egressGuard: this.egressGuard, reasons: Object.fromEntries(this.reasons), partners: Object.fromEntries(this.partners) };
  }

  static of(c: BucketCounts): Tally {
    const t = new Tally();
    t.released = Number(c.released) || 0;
    t.denied = Number(c.denied) || 0;
    t.crossBorder = Number(c.crossBorder) || 0;
    t.egressGuard = Number(c.egressGuard) || 0;
    for (const [k, n] of Object.entries(c.reasons ?? {})) t.reasons.set(k, Number(n) || 0);
    for (const [k, n] of Object.entries(c.partners ?? {})) t.partners.set(k, Number(n) || 0);
    return t;
  }

  result(): WindowStats {
    const top = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 10);
    return { released: this.released, denied: this.denied, crossBorder: this.crossBorder, egressGuard: this.egressGuard, reasons: top(this.reasons), partners: top(this.partners) };
  }
}

/** One-minute buckets of the last week; a bucket counts in a window it overlaps (minute precision). */
export class OverviewBuckets {
  private readonly minutes = new Map<number, Tally>();
  scanned = 0;

  add(e: TransferEntry): void {
    this.scanned++;
    const at = Date.parse(e.at);
    if (Number.isNaN(at)) return;
    const m = Math.floor(at / MINUTE) * MINUTE;
    let t = this.minutes.get(m);
    if (!t) this.minutes.set(m, (t = new Tally()));
    t.add(e);
  }

  /** Drops the buckets older than the week: what is kept stays bounded (10,080 minutes). */
  prune(now: number): void {
    for (const m of this.minutes.keys()) if (m + MINUTE <= now - WINDOWS.week) this.minutes.delete(m);
  }

  /** The buckets as the snapshot keeps them (overview-snapshot.ts). */
  export(now: number): Array<[number, BucketCounts]> {
    this.prune(now);
    return [...this.minutes].map(([m, t]) => [m, t.counts()]);
  }

  /** Starts from a snapshot's buckets (before anything else is folded in). */
  import(buckets: Array<[number, BucketCounts]>, scanned: number): void {
    this.minutes.clear();
    for (const [m, c] of buckets) if (Number.isFinite(m)) this.minutes.set(m, Tally.of(c));
    this.scanned = scanned;
  }

  stats(now: number, truncated: boolean): OverviewStats {
    const current = Math.floor(now / MINUTE) * MINUTE;
    this.prune(now); // older than the week
    const sums = { hour: new Tally(), day: new Tally(), week: new Tally() };
    for (const [m, t] of this.minutes) {
      if (m > current) continue; // stamped ahead of this clock: counted once its minute comes
      for (const w of Object.keys(WINDOWS) as WindowName[]) if (m + MINUTE > now - WINDOWS[w]) sums[w].merge(t);
    }
    const x: number[] = [];
    const released: number[] = [];
    const denied: number[] = [];
    for (let i = 59; i >= 0; i--) {
      const m = current - i * MINUTE;
      x.push(m / 1000);
      released.push(this.minutes.get(m)?.released ?? 0);
      denied.push(this.minutes.get(m)?.denied ?? 0);
    }
    return {
      windows: { hour: sums.hour.result(), day: sums.day.result(), week: sums.week.result() },
      perMinute: { x, released, denied },
      series: { hour: this.series(current, 'hour'), day: this.series(current, 'day'), week: this.series(current, 'week') },
      scanned: this.scanned, truncated, at: new Date(now).toISOString(),
    };
  }

  /** The minute buckets of window `w` summed per STEPS[w], oldest first, the last step holding `current`. */
  private series(current: number, w: WindowName): Series {
    const step = STEPS[w];
    const n = WINDOWS[w] / step;
    const first = Math.floor(current / step) * step - (n - 1) * step;
    const out: Series = { x: [], released: new Array<number>(n).fill(0), denied: new Array<number>(n).fill(0) };
    for (let i = 0; i < n; i++) out.x.push((first + i * step) / 1000);
    for (const [m, t] of this.minutes) {
      if (m > current || m < first) continue;
      const i = Math.floor((m - first) / step);
      out.released[i]! += t.released;
      out.denied[i]! += t.denied;
    }
    return out;
  }
}
