// Parsing and validation of the store's paging parameters. Every failure names its parameter so the
// server can answer 400 problem+json that tells the caller exactly what to fix.

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

export class InvalidQueryError extends Error {
  constructor(readonly parameter: string, detail: string) {
    super(`${parameter}: ${detail}`);
    this.name = 'InvalidQueryError';
  }
}

// The cursor is opaque to clients; inside it is the index of the next record. The prefix and the
// round-trip check below reject hand-made or truncated values instead of guessing what they meant.
export function encodeCursor(index: number): string {
  return Buffer.from(`i${index}`, 'utf8').toString('base64url');
}

/** The index inside a cursor; throws unless it is a cursor this store could have issued. */
export function decodeCursor(cursor: string, count: number): number {
  const bad = () => new InvalidQueryError('cursor', 'is not a cursor issued by this store');
  if (!/^[A-Za-z0-9_-]{1,24}$/.test(cursor)) throw bad();
  const m = /^i(0|[1-9]\d{0,14})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) throw bad();
  const index = Number(m[1]);
  if (encodeCursor(index) !== cursor || index > count) throw bad();
  return index;
}

export function parseLimit(raw: unknown): number {
  if (raw === undefined) return DEFAULT_LIMIT;
  const n = typeof raw === 'string' && /^\d{1,7}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT) {
    throw new InvalidQueryError('limit', `must be an integer from 1 to ${MAX_LIMIT}`);
  }
  return n;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(Z|[+-](\d{2}):(\d{2}))$/i;

/**
 * An RFC 3339 date-time (ISO 8601 with a time and a zone). Date.parse alone is too lenient: it
 * accepts February 30th and zone-less local times, which would make filtering depend on the host.
 */
export function parseUpdatedSince(raw: unknown): Date | null {
  if (raw === undefined) return null;
  const bad = () => new InvalidQueryError('updatedSince', 'must be an ISO 8601 date-time with a zone, e.g. 2026-06-01T00:00:00Z');
  const m = typeof raw === 'string' ? RFC3339.exec(raw) : null;
  if (!m) throw bad();
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const calendar = new Date(Date.UTC(y, mo - 1, d));
  const realDay = calendar.getUTCMonth() === mo - 1 && calendar.getUTCDate() === d;
  const offsetOk = m[8] === undefined || (Number(m[8]) <= 23 && Number(m[9]) <= 59);
  if (!realDay || h > 23 || mi > 59 || s > 59 || !offsetOk) throw bad();
  const at = new Date(raw as string);
  if (Number.isNaN(at.getTime())) throw bad();
  return at;
}
