// The overview's figures, from transfer log entries in one pass (pure): released vs denied, top
// denial reasons, partners by released volume and the cross-border share, over the last hour, day
// and week, plus transfers per minute over the last hour for the chart.
import type { TransferEntry } from '../transfer-log/entry.ts';

export const WINDOWS = { hour: 3_600_000, day: 86_400_000, week: 7 * 86_400_000 } as const;
export type WindowName = keyof typeof WINDOWS;

export interface WindowStats {
  released: number;
  denied: number;
  /** Denial reason codes, most frequent first (top 10). */
  reasons: Array<[string, number]>;
  /** Partner ids by released transfers, most first (top 10). */
  partners: Array<[string, number]>;
  /** Released transfers with a cross-border basis (adequacy or consent). */
  crossBorder: number;
}

export interface OverviewStats {
  windows: Record<WindowName, WindowStats>;
  /** 60 one-minute buckets ending at the current minute; x in unix seconds (uPlot's unit). */
  perMinute: { x: number[]; released: number[]; denied: number[] };
  /** Entries read; `truncated` when the scan stopped at its cap (figures then cover the newest part only). */
  scanned: number;
  truncated: boolean;
  at: string;
}

class Tally {
  released = 0;
  denied = 0;
  crossBorder = 0;
  private readonly reasons = new Map<string, number>();
  private readonly partners = new Map<string, number>();

  add(e: TransferEntry): void {
    if (e.decision === 'released') {
      this.released++;
      if (e.crossBorderBasis && e.crossBorderBasis !== 'domestic') this.crossBorder++;
      if (e.partnerId) this.partners.set(e.partnerId, (this.partners.get(e.partnerId) ?? 0) + 1);
    } else {
      this.denied++;
      const r = e.reason ?? 'unknown';
      this.reasons.set(r, (this.reasons.get(r) ?? 0) + 1);
    }
  }

  result(): WindowStats {
    const top = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 10);
    return { released: this.released, denied: this.denied, crossBorder: this.crossBorder, reasons: top(this.reasons), partners: top(this.partners) };
  }
}

export class OverviewAccumulator {
  private readonly tallies = { hour: new Tally(), day: new Tally(), week: new Tally() };
  private readonly minuteEnd: number;
  private readonly released = new Array<number>(60).fill(0);
  private readonly denied = new Array<number>(60).fill(0);
  scanned = 0;

  constructor(private readonly now: number) {
    this.minuteEnd = Math.floor(now / 60_000) * 60_000 + 60_000; // end of the current minute
  }

  add(e: TransferEntry): void {
    this.scanned++;
    const at = Date.parse(e.at);
    const age = this.now - at;
    if (!(age <= WINDOWS.week) || at > this.now) return;
    for (const w of Object.keys(WINDOWS) as WindowName[]) if (age <= WINDOWS[w]) this.tallies[w].add(e);
    const bucket = 59 - Math.floor((this.minuteEnd - 1 - at) / 60_000);
    if (bucket >= 0 && bucket < 60) (e.decision === 'released' ? this.released : this.denied)[bucket]!++;
  }

  result(truncated: boolean): OverviewStats {
    const x = Array.from({ length: 60 }, (_, i) => (this.minuteEnd - (60 - i) * 60_000) / 1000);
    return {
      windows: { hour: this.tallies.hour.result(), day: this.tallies.day.result(), week: this.tallies.week.result() },
      perMinute: { x, released: this.released, denied: this.denied },
      scanned: this.scanned, truncated, at: new Date(this.now).toISOString(),
    };
  }
}
