// Copying store values into output: JSON types only, plain objects only, bounded depth, and with
// correspondence sub-paths cut out during the copy (policy 4.3). Anything else makes the whole
// value malformed (undefined), which the projection drops and counts.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Relative paths to cut out: a token maps to `true` (cut here) or to deeper paths. */
export type PruneTree = Map<string, PruneTree | true>;

const MAX_DEPTH = 64;

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** A deep copy of `value` as JSON, minus the `prune` paths; undefined when it is not JSON. */
export function copyJson(value: unknown, prune?: PruneTree, depth = 0): Json | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'object' || depth >= MAX_DEPTH) return undefined;
  if (Array.isArray(value)) {
    const out: Json[] = [];
    for (let i = 0; i < value.length; i++) {
      const sub = prune?.get(String(i));
      if (sub === true) continue;
      const item = copyJson(value[i], sub, depth + 1);
      if (item === undefined) return undefined;
      out.push(item);
    }
    return out;
  }
  if (!isPlainObject(value)) return undefined;
  const out: { [key: string]: Json } = {};
  for (const key of Object.keys(value)) {
    const sub = prune?.get(key);
    if (sub === true) continue;
    const item = copyJson((value as Record<string, unknown>)[key], sub, depth + 1);
    if (item === undefined) return undefined;
    // defineProperty: a stored key "__proto__" stays data, never a prototype switch.
    Object.defineProperty(out, key, { value: item, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Canonical JSON (sorted keys, no whitespace) so equal values hash equally whatever their key order. */
export function canonicalJson(value: Json): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k] as Json)}`).join(',')}}`;
}
