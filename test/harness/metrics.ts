// Reading the gateway's Prometheus text: a scrape of the control plane's /metrics (CONTRACT 8,
// RULES 43), parsed into metric families (from # TYPE) and samples.
import assert from 'node:assert/strict';
import { adminApi } from './admin.ts';
import type { Stack } from './stack.ts';

export interface Sample { name: string; labels: Record<string, string>; value: number }
export interface Exposition { types: Map<string, string>; samples: Sample[] }

/** GET /metrics on the control-plane listener with a role token (default: the bootstrap admin token). */
export async function scrapeMetrics(stack: Stack, token = stack.adminToken): Promise<string> {
  const r = await adminApi(stack, token)('GET', '/metrics');
  assert.equal(r.status, 200, r.text);
  return r.text;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const t = /^# TYPE (\S+) (\S+)/.exec(line);
    if (t) { types.set(t[1]!, t[2]!); continue; }
    if (!line || line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return { types, samples };
}

/** The series names a family exposes: histograms add _bucket/_sum/_count, summaries _sum/_count. */
export function seriesNames(types: Map<string, string>): Set<string> {
  const names = new Set<string>();
  for (const [family, type] of types) {
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(family + s);
    else if (type === 'summary') for (const s of ['', '_sum', '_count']) names.add(family + s);
    else names.add(family);
  }
  return names;
}

/** The value of the one sample of `name` whose labels include `labels`. */
export function sampleValue(x: Exposition, name: string, labels: Record<string, string> = {}): number | undefined {
  const hits = x.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  assert.ok(hits.length <= 1, `${name} ${JSON.stringify(labels)} matches ${hits.length} samples`);
  return hits[0]?.value;
}
