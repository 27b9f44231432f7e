// RFC 6901 JSON pointers for the field map (CONTRACT 9). Only own properties are followed, so a
// pointer such as /__proto__ or /constructor never reaches into Object.prototype.

export type Pointer = readonly string[];

/** Reference tokens of a pointer, or null when it is not a valid RFC 6901 pointer. */
export function parsePointer(pointer: string): Pointer | null {
  if (typeof pointer !== 'string') return null;
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) return null;
  const tokens = pointer.slice(1).split('/');
  // "~" must be followed by 0 or 1; anything else is malformed, not silently kept.
  if (tokens.some((t) => /~(?![01])/.test(t))) return null;
  return tokens.map((t) => t.replaceAll('~1', '/').replaceAll('~0', '~'));
}

const ARRAY_INDEX = /^(0|[1-9]\d*)$/;

/** The value at `tokens`, or undefined when the path does not exist. */
export function readPointer(doc: unknown, tokens: Pointer): unknown {
  let cur: unknown = doc;
  for (const t of tokens) {
    if (Array.isArray(cur)) {
      if (!ARRAY_INDEX.test(t)) return undefined;
      cur = cur[Number(t)];
    } else if (typeof cur === 'object' && cur !== null && Object.hasOwn(cur, t)) {
      cur = (cur as Record<string, unknown>)[t];
    } else {
      return undefined;
    }
  }
  return cur;
}

/** True when `prefix` is `path` or one of its ancestors. */
export function isPrefixOf(prefix: Pointer, path: Pointer): boolean {
  return prefix.length <= path.length && prefix.every((t, i) => path[i] === t);
}
