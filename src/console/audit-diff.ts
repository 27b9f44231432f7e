// An audit entry's before/after as a field-by-field diff (issue 16 page 8), computed on the
// server: both summaries flattened to dotted paths (arrays by index), one row per path, changed
// rows marked. The summaries never carry secrets (auth/admin-audit.ts); values are shown as JSON.

export interface DiffRow { field: string; before: string | null; after: string | null; changed: boolean }

const MAX_DEPTH = 8;

function flatten(v: unknown, prefix: string, out: Map<string, string>, depth = 0): void {
  if (v !== null && typeof v === 'object' && depth < MAX_DEPTH && Object.keys(v).length > 0) {
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) flatten(x, prefix ? `${prefix}.${k}` : k, out, depth + 1);
    return;
  }
  if (v === null && prefix === '') return; // no summary at all (a creation has no before)
  out.set(prefix || '(value)', typeof v === 'string' ? v : JSON.stringify(v));
}

export function auditDiff(before: unknown, after: unknown): DiffRow[] {
  const b = new Map<string, string>();
  const a = new Map<string, string>();
  flatten(before, '', b);
  flatten(after, '', a);
  const fields = [...new Set([...b.keys(), ...a.keys()])].sort();
  return fields.map((field) => {
    const x = b.get(field) ?? null;
    const y = a.get(field) ?? null;
    return { field, before: x, after: y, changed: x !== y };
  });
}
