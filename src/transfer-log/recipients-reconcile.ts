// One recipients record against what the entries determine (issue 15 item 5; RULES 12): the
// drift, named by subjectRef and partner, and the record that should be stored.

/** One partner's part of a record: what the append script keeps per partner. */
export interface Part { count: number; first: string; last: string; facets: Set<string> }
export type RecordParts = Map<string, Part>;

export type DriftProblem = 'missing_record' | 'missing_partner' | 'extra_partner' | 'count' | 'first' | 'last'
  | 'missing_facets' | 'extra_facets' | 'unsettled';

export interface RecipientsDrift {
  subjectRef: string;
  partnerId: string | null;
  problem: DriftProblem;
  expected?: string | number | string[];
  found?: string | number | string[];
}

/** A stored record (HGETALL), by partner. */
export function parseParts(hash: Record<string, string>): RecordParts {
  const parts: RecordParts = new Map();
  for (const [field, value] of Object.entries(hash)) {
    const cut = field.indexOf('\x1f');
    if (cut <= 0) continue;
    const partner = field.slice(0, cut);
    const kind = field.slice(cut + 1);
    let p = parts.get(partner);
    if (!p) parts.set(partner, (p = { count: 0, first: '', last: '', facets: new Set() }));
    if (kind === 'count') p.count = Number(value);
    else if (kind === 'first') p.first = value;
    else if (kind === 'last') p.last = value;
    else p.facets.add(kind);
  }
  return parts;
}

const shown = (facets: Iterable<string>) => [...facets].map((f) => f.replace('\x1f', ':')).sort();

interface Trim { trimmed: boolean; oldestAt: string | null }

/**
 * What the record should be, and how the stored one differs. Without a trim every value is exact.
 * After a trim, what the removed entries contributed is no longer checkable: the stored count may
 * exceed the remaining entries' count, `first` may precede theirs, and purposes, categories, key
 * versions and countries may be a superset; a partner whose releases were all removed has nothing
 * left to prove it (retention prunes it; until then it is kept if it is no newer than the oldest
 * remaining entry). `last` stays exact, and every release still in the log must be there.
 */
export function reconcile(subjectRef: string, want: RecordParts | undefined, have: RecordParts, t: Trim): { drift: RecipientsDrift[]; target: RecordParts } {
  const drift: RecipientsDrift[] = [];
  const d = (partnerId: string | null, problem: DriftProblem, expected?: RecipientsDrift['expected'], found?: RecipientsDrift['found']) =>
    drift.push({ subjectRef, partnerId, problem, ...(expected !== undefined ? { expected } : {}), ...(found !== undefined ? { found } : {}) });
  const target: RecordParts = new Map();
  if (want && want.size > 0 && have.size === 0) d(null, 'missing_record', [...want.keys()].sort());
  for (const [partner, c] of want ?? []) {
    const i = have.get(partner);
    if (!i) {
      if (have.size > 0) d(partner, 'missing_partner', c.count);
      target.set(partner, c);
      continue;
    }
    const w: Part = t.trimmed
      ? { count: Math.max(i.count, c.count), first: i.first && i.first < c.first ? i.first : c.first, last: c.last, facets: new Set([...c.facets, ...i.facets]) }
      : c;
    if (i.count !== w.count) d(partner, 'count', w.count, i.count);
    if (i.first !== w.first) d(partner, 'first', w.first, i.first);
    if (i.last !== w.last) d(partner, 'last', w.last, i.last);
    const missing = [...w.facets].filter((f) => !i.facets.has(f));
    const extra = [...i.facets].filter((f) => !w.facets.has(f));
    if (missing.length) d(partner, 'missing_facets', shown(missing));
    if (extra.length) d(partner, 'extra_facets', undefined, shown(extra));
    target.set(partner, w);
  }
  for (const [partner, i] of have) {
    if (want?.has(partner)) continue;
    if (t.trimmed && (t.oldestAt === null || i.last <= t.oldestAt)) { target.set(partner, i); continue; }
    d(partner, 'extra_partner', undefined, i.count);
  }
  return { drift, target };
}

export function hashArgs(parts: RecordParts): string[] {
  const a: string[] = [];
  for (const [p, v] of parts) {
    a.push(`${p}\x1fcount`, String(v.count), `${p}\x1ffirst`, v.first, `${p}\x1flast`, v.last);
    for (const f of v.facets) a.push(`${p}\x1f${f}`, '1');
  }
  return a;
}
