// Side-by-side diff of two agreement versions (issue 16 page 6): both documents flattened to one
// row per field path (`purposes.advertising.categories.email`), in the order the fields appear,
// each row marked same, changed, added or removed — in words as well as colour, so it reads
// without colour too. Computed here from the two JSON documents; no diff library.
import type { AgreementVersion } from '../agreements/agreement-store.ts';
import { html, type Html } from './html.ts';

export type RowKind = 'same' | 'changed' | 'added' | 'removed';
export interface DiffRow { field: string; a: string | undefined; b: string | undefined; kind: RowKind }

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Leaves by path; a list of plain values is one leaf ("KZ, DE"), a list of objects one row per item field. */
export function flatten(v: unknown, path = '', out = new Map<string, string>()): Map<string, string> {
  if (Array.isArray(v) && v.every((x) => !isObj(x) && !Array.isArray(x))) out.set(path, v.map(String).join(', '));
  else if (Array.isArray(v)) v.forEach((x, i) => flatten(x, `${path}.${i}`, out));
  else if (isObj(v)) for (const [k, x] of Object.entries(v)) flatten(x, path ? `${path}.${k}` : k, out);
  else if (v !== undefined) out.set(path, String(v));
  return out;
}

/** The terms and status of a version, without the fields every version differs in (ids, times). */
function comparable(a: AgreementVersion): Record<string, unknown> {
  const { id: _i, partnerId: _p, version: _v, createdAt: _c, statusChangedAt: _s, countriesSince: _cs, review: _r, createdBy: _b, ...terms } = a;
  return terms;
}

export function diffVersions(a: AgreementVersion, b: AgreementVersion): DiffRow[] {
  const fa = flatten(comparable(a));
  const fb = flatten(comparable(b));
  const fields = [...new Set([...fa.keys(), ...fb.keys()])];
  return fields.map((field) => {
    const x = fa.get(field), y = fb.get(field);
    const kind: RowKind = x === undefined ? 'added' : y === undefined ? 'removed' : x === y ? 'same' : 'changed';
    return { field, a: x, b: y, kind };
  });
}

const MARK: Record<RowKind, string> = { same: '', changed: 'changed', added: 'added', removed: 'removed' };

export function diffTable(a: AgreementVersion, b: AgreementVersion): Html {
  const rows = diffVersions(a, b);
  const changed = rows.filter((r) => r.kind !== 'same').length;
  return html`<table class="diff"><caption>Version ${a.version} (${a.status}) against version ${b.version} (${b.status}): ${changed} ${changed === 1 ? 'field differs' : 'fields differ'}</caption>
<thead><tr><th scope="col">Field</th><th scope="col">Version ${a.version}</th><th scope="col">Version ${b.version}</th><th scope="col">Change</th></tr></thead>
<tbody>${rows.map((r) => html`<tr${r.kind === 'same' ? '' : html` class="diff-${r.kind}"`}><th scope="row"><code>${r.field}</code></th><td>${r.a ?? '—'}</td><td>${r.b ?? '—'}</td><td>${MARK[r.kind]}</td></tr>`)}</tbody></table>`;
}
