// The `cursor` query parameter of every list route: opened with the one cursor codec, refused as a
// 400 validation_failed naming `cursor` (CONTRACT 6 "Other codes") when malformed, altered, foreign
// or expired, and — for stream-backed lists — range-checked before it can reach Redis.
import type { CursorCodec, CursorKind } from '../cursors/codec.ts';
import { isExclusiveBound } from '../redis/stream-id.ts';
import { validationFailed } from './problem.ts';

/** Narrow view of the codec: what a router needs to hand out and take back cursors. */
export type Cursors = Pick<CursorCodec, 'seal' | 'open'>;

/** Pattern for the OpenAPI doc and the first, cheap check: base64url of a sealed cursor. */
export const CURSOR_PATTERN = /^[A-Za-z0-9_-]{40,4096}$/;
export const CURSOR_HINT = 'must be the nextCursor of a previous answer, unchanged';

/** The inner cursor of `raw`, or null without one; throws 400 naming `cursor` if refused. */
export function openCursor(cursors: Cursors, kind: CursorKind, binding: readonly string[], raw: string | undefined): string | null {
  if (raw === undefined) return null;
  const o = cursors.open(kind, binding, raw);
  if (!o.ok) throw validationFailed([{ field: 'cursor', reason: o.reason }]);
  return o.inner;
}

/**
 * As openCursor, for lists read from a Redis stream: the inner cursor is an exclusive stream-id
 * bound, read on `after` it (oldest first) or back `before` it (newest first).
 */
export function openStreamCursor(cursors: Cursors, kind: CursorKind, binding: readonly string[], raw: string | undefined, direction: 'after' | 'before'): string | null {
  const inner = openCursor(cursors, kind, binding, raw);
  // Issue [1/6] item 3: only ids in Redis's 64-bit range (and usable as an exclusive bound) go on.
  if (inner !== null && !isExclusiveBound(inner, direction)) throw validationFailed([{ field: 'cursor', reason: 'not a position in this list' }]);
  return inner;
}

/** Seal `inner` for the caller, or null when there is no next page ('' too: no store means "start" by it). */
export function sealCursor(cursors: Cursors, kind: CursorKind, binding: readonly string[], inner: string | null): string | null {
  return inner === null || inner === '' ? null : cursors.seal(kind, binding, inner);
}
