// Redis stream ids are two unsigned 64-bit numbers, `ms-seq`. An id outside that range makes
// XRANGE fail with an error (a 500 before this check), so every id from outside — a decrypted
// cursor or a Last-Event-ID — is checked here before any Redis call (issue [1/6] item 3).
const SHAPE = /^(\d{1,20})-(\d{1,20})$/;
const U64_MAX = (1n << 64n) - 1n;

function parts(s: string): [bigint, bigint] | null {
  const m = SHAPE.exec(s);
  if (!m) return null;
  const ms = BigInt(m[1]!);
  const seq = BigInt(m[2]!);
  return ms <= U64_MAX && seq <= U64_MAX ? [ms, seq] : null;
}

/** <0, 0, >0 like a comparator, for two well-formed ids (`ms-seq`) as Redis orders them. */
export function compareStreamIds(a: string, b: string): number {
  return cmp(split(a), split(b));
}

const cmp = (x: [bigint, bigint], y: [bigint, bigint]) => (x[0] !== y[0] ? (x[0] < y[0] ? -1 : 1) : x[1] === y[1] ? 0 : x[1] < y[1] ? -1 : 1);

/** An id, or an XRANGE bound (`ms` alone takes `missingSeq`; '-' and '+' the ends), as numbers. */
function split(id: string, missingSeq = 0n): [bigint, bigint] {
  if (id === '-') return [0n, 0n];
  if (id === '+') return [U64_MAX, U64_MAX];
  const i = id.indexOf('-');
  return i < 0 ? [BigInt(id), missingSeq] : [BigInt(id.slice(0, i)), BigInt(id.slice(i + 1))];
}

/** Whether an id lies within XRANGE's bounds (`-`, `+`, `ms`, `ms-seq`, each maybe `(`-exclusive). */
export function inStreamRange(min: string, max: string): (id: string) => boolean {
  const bound = (b: string, missingSeq: bigint) => ({ at: split(b.replace(/^\(/, ''), missingSeq), open: b.startsWith('(') });
  const lo = bound(min, 0n);
  const hi = bound(max, U64_MAX);
  return (id) => {
    const x = split(id);
    const a = cmp(x, lo.at);
    const b = cmp(x, hi.at);
    return (lo.open ? a > 0 : a >= 0) && (hi.open ? b < 0 : b <= 0);
  };
}

/** True when `s` is `ms-seq` with each part in 0..2^64-1. */
export function isStreamId(s: string): boolean {
  return parts(s) !== null;
}

/**
 * True when `(s` is valid in the given direction: Redis refuses `(` on the last possible id as an
 * exclusive start (reading on after it) and on 0-0 as an exclusive end (reading back before it).
 */
export function isExclusiveBound(s: string, direction: 'after' | 'before'): boolean {
  const p = parts(s);
  if (!p) return false;
  return direction === 'after' ? !(p[0] === U64_MAX && p[1] === U64_MAX) : !(p[0] === 0n && p[1] === 0n);
}
