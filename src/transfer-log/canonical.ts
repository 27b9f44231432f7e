// Canonical JSON for hashing (issue 5): object keys sorted by code unit, no whitespace, arrays in
// order. The same entry always gives the same bytes, so anyone can recompute a hash from the log.

export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      // NaN/Infinity have no JSON form; refusing them keeps the encoding one-to-one.
      if (!Number.isFinite(value)) throw new TypeError('canonicalJson: non-finite number');
      return JSON.stringify(value);
    case 'string':
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj).sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
    }
    default:
      // undefined, functions, bigint, symbols: a hashed entry holds none of them.
      throw new TypeError(`canonicalJson: unsupported ${typeof value}`);
  }
}
