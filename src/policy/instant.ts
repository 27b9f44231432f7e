// Strict ISO 8601 instants for the decision and the treatments. Date.parse accepts far too much
// ("1", "March 7", local times), so a value that is not unambiguous is `null` and the caller
// denies or drops it (DESIGN 1: a check that cannot run is a denial, never a pass).

export const DAY_MS = 86_400_000;

// Date only (UTC midnight), or date-time with seconds optional and a mandatory zone: a time
// without a zone would depend on the gateway's local clock.
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2}))?$/;

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const leap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

/** Milliseconds since the epoch, or null when `value` is not a valid Date or strict ISO string. */
export function parseInstant(value: unknown): number | null {
  if (value instanceof Date) {
    const t = value.getTime();
    return Number.isFinite(t) ? t : null;
  }
  if (typeof value !== 'string') return null;
  const m = ISO.exec(value);
  if (!m) return null;
  // Issue 17 item 4: this runs several times per subject (decision and egress guard), so the fields
  // are read one by one, without arrays or Date objects.
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const h = m[4] === undefined ? 0 : Number(m[4]);
  const mi = m[5] === undefined ? 0 : Number(m[5]);
  const s = m[6] === undefined ? 0 : Number(m[6]);
  if (y < 1000) return null;
  if (h > 23 || mi > 59 || s > 59) return null;
  // Date.UTC rolls 2026-02-30 over into March: an impossible calendar date is refused here.
  if (mo < 1 || mo > 12 || d < 1 || d > (mo === 2 && leap(y) ? 29 : MONTH_DAYS[mo - 1]!)) return null;
  const ms = m[7] === undefined ? 0 : Number(m[7].length >= 3 ? m[7].slice(0, 3) : m[7].padEnd(3, '0'));
  const t = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  const result = t - offsetMs(m[8]);
  return Number.isFinite(result) ? result : null;
}

function offsetMs(zone: string | undefined): number {
  if (zone === undefined || zone === 'Z') return 0;
  const sign = zone[0] === '-' ? -1 : 1;
  const [hh, mm] = zone.slice(1).split(':').map(Number) as [number, number];
  if (hh > 23 || mm > 59) return Number.NaN; // makes the instant NaN, which parseInstant rejects
  return sign * (hh * 60 + mm) * 60_000;
}

/** The calendar year of a strict ISO date (date_of_birth), or null. */
export function isoYear(value: unknown): number | null {
  return typeof value === 'string' && parseInstant(value) !== null ? Number(value.slice(0, 4)) : null;
}
