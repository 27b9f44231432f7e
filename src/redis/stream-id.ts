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
