// The metric names and label names a PromQL expression reads, for checking the shipped dashboard
// and alert rules against a real scrape. Enough PromQL for what we ship: selectors, functions,
// aggregations with by/without, binary operators with on/ignoring/group_*, offsets, ranges.
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool', 'and', 'or', 'unless', 'inf', 'nan']);

export interface Selector { name: string; labels: string[] }

/** Every vector selector `name{matchers}` (or bare `name`) in `expr`, with its matcher label names. */
export function selectors(expr: string): Selector[] {
  const s = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""') // string literals
    .replace(/\[[^\]]*\]/g, '') // range and subquery durations, [$__rate_interval]
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' '); // label lists
  const out: Selector[] = [];
  const token = /(?<![\w.$])([a-zA-Z_:][\w:]*)\s*(\{[^}]*\})?\s*(\()?/g;
  for (const m of s.matchAll(token)) {
    const [, name, matchers, call] = m;
    if (call || KEYWORDS.has(name!.toLowerCase())) continue; // a function or aggregation, or a keyword
    const labels = [...(matchers ?? '').matchAll(/([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)/g)].map((l) => l[1]!);
    out.push({ name: name!, labels });
  }
  return out;
}

/** Label names in by/without/on/ignoring lists: they must exist on the series they group. */
export function groupingLabels(expr: string): string[] {
  return [...expr.matchAll(/\b(?:by|without|on|ignoring)\s*\(([^)]*)\)/g)].flatMap((m) => m[1]!.split(',').map((l) => l.trim()).filter(Boolean));
}
