// Overview page (issue 16 page 1): released vs denied, top denial reasons, partners by volume and
// the cross-border share over the last hour, day or week, and transfers per minute over the last
// hour, day or week as a uPlot chart (per minute, 15 minutes or hour). Figures come from the transfer log's query API (overviewSource below).
import type { Router } from 'express';
import type { ApiDoc } from '../http/openapi.ts';
import type { TransferQuery } from '../transfer-log/query.ts';
import { html, jsonAttr, type Html } from './html.ts';
import { page } from './layout.ts';
import { sessionOf } from './console-auth.ts';
import type { ConsolePageContext } from './context.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SnapshotStore } from './overview-snapshot.ts';
import { OverviewBuckets, WINDOWS, type OverviewStats, type WindowName, type WindowStats } from './overview-stats.ts';

const CACHE_MS = 5_000;
// Small batches: a view's own Redis calls (session, audit) wait behind at most one of them.
const BATCH = 500;

export interface OverviewOptions {
  /** How long a view waits for the refresh under way before it shows what has been folded so far. */
  budgetMs: number;
  /** The shared snapshot is written at most this often by one instance. */
  snapshotEveryMs: number;
  /** null: no shared snapshot (each instance reads the week itself). */
  snapshot: SnapshotStore | null;
  /** A snapshot that could not be written (counts only: nothing personal to log). */
  onSnapshotError?: (err: unknown) => void;
  now?: () => number;
}

/**
 * The figures, refreshed at most every CACHE_MS per instance however many staff have the page
 * open, by one reader at a time: the first refresh starts from the shared snapshot (if any) and
 * reads the log after its cursor, oldest first; each later one only what was appended after the
 * last stream id read. A view waits at most `budgetMs` for the reader (issue 16: each page under
 * 1 s whatever the log size) and otherwise shows what has been folded so far, marked incomplete
 * until the week has been read once; the reader goes on in the background.
 */
export function overviewSource(query: Pick<TransferQuery, 'since'>, o: OverviewOptions): () => Promise<OverviewStats> {
  const now = o.now ?? Date.now;
  const buckets = new OverviewBuckets();
  let cursor: string | null = null;
  let complete = false;
  let loaded = false;
  let lastRefresh = -Infinity;
  let lastWrite = -Infinity;
  let written: string | null = null;
  let reader: Promise<void> | null = null;

  const save = async () => {
    if (!o.snapshot || !cursor || cursor === written || now() - lastWrite < o.snapshotEveryMs) return;
    lastWrite = now();
    written = cursor;
    // A cache shared between instances: a failed write costs the others a longer read, not a figure.
    await o.snapshot.write({ cursor, complete, scanned: buckets.scanned, buckets: buckets.export(now()) }).catch((err: unknown) => o.onSnapshotError?.(err));
  };
  const refresh = async () => {
    if (!loaded) {
      const snap = o.snapshot ? await o.snapshot.read() : null;
      if (snap) {
        buckets.import(snap.buckets, snap.scanned);
        ({ cursor, complete } = snap);
        written = snap.cursor;
      }
      loaded = true;
    }
    for (;;) {
      // Entries older than the week are not counted (the `from` bound also starts the first read).
      const r = await query.since({ from: new Date(now() - WINDOWS.week).toISOString() }, cursor, BATCH);
      for (const { entry } of r.items) buckets.add(entry);
      const moved = r.cursor !== null && r.cursor !== cursor;
      if (r.cursor) cursor = r.cursor;
      if (!moved) break;
      await save();
    }
    complete = true;
    await save();
  };
  return async () => {
    if (!reader && now() - lastRefresh > CACHE_MS) {
      lastRefresh = now();
      // One reader at a time, so the cursor is never read twice; a failed read is retried at the next view.
      reader = refresh().catch((err: unknown) => { lastRefresh = -Infinity; throw err; }).finally(() => { reader = null; });
      reader.catch(() => undefined);
    }
    if (reader) {
      const budget = new AbortController();
      await Promise.race([reader, sleep(o.budgetMs, undefined, { signal: budget.signal }).catch(() => undefined)]).finally(() => budget.abort());
    }
    return buckets.stats(now(), !complete);
  };
}

const pct = (n: number, of: number) => (of ? `${((100 * n) / of).toFixed(1)} %` : '—');

function table(caption: string, head: string, rows: Array<[string, number]>): Html {
  if (!rows.length) return html`<p class="muted">${caption}: none.</p>`;
  return html`<table><caption>${caption}</caption><thead><tr><th scope="col">${head}</th><th scope="col">Transfers</th></tr></thead>
<tbody>${rows.map(([k, n]) => html`<tr><td>${k}</td><td>${n}</td></tr>`)}</tbody></table>`;
}

function windowBody(w: WindowStats, label: string): Html {
  const total = w.released + w.denied;
  return html`<section aria-labelledby="figures"><h2 id="figures">Last ${label}</h2>
<div class="cards">
<article><header>Released</header><p class="figure released">${w.released}</p></article>
<article><header>Denied</header><p class="figure denied">${w.denied}</p><small>${pct(w.denied, total)} of decisions</small></article>
<article><header>Egress-guard hits</header><p class="figure${w.egressGuard ? ' denied' : ''}">${w.egressGuard}</p><small>${w.egressGuard ? 'payloads stopped: investigate (RULES 9)' : 'no payload stopped'}</small></article>
<article><header>Cross-border share</header><p class="figure">${pct(w.crossBorder, w.released)}</p><small>${w.crossBorder} of ${w.released} releases went abroad</small></article>
</div>
<div class="grid">
${table('Top denial reasons', 'Reason', w.reasons)}
${table('Partners by volume (released)', 'Partner', w.partners)}
</div></section>`;
}

export function mountOverview(r: Router, ctx: ConsolePageContext, doc: ApiDoc, stats: () => Promise<OverviewStats>): void {
  doc.add('GET', '/console/overview', {
    summary: 'console page: released vs denied, egress-guard hits, top denial reasons, partners by volume, cross-border share (window=hour|day|week), transfers per minute over the last hour; while the week is still being read (first start, no shared snapshot) it answers after console.overview.budgetMs with the figures so far and a note', auth: 'console session (admin or auditor)',
    responses: { 200: 'text/html', 303: 'no session: to /console/sign-in' },
  });
  r.get('/overview', ctx.auth.requireStaff('admin', 'auditor'), async (req, res) => {
    const s = sessionOf(res);
    const w: WindowName = req.query.window === 'day' || req.query.window === 'week' ? req.query.window : 'hour';
    // The read is recorded before the page goes out; the figures are gathered meanwhile, so the
    // audit write's round trip does not come on top of the read budget (issue 16: under 1 s).
    const [, st] = await Promise.all([ctx.audit.logRead(s.staff, res.locals.requestId, 'console.overview', {}, { window: w }), stats()]);
    const tabs = (Object.keys(WINDOWS) as WindowName[]).map((n) => html`<li><a href="/console/overview?window=${n}"${n === w ? html` aria-current="page"` : ''}>Last ${n}</a></li>`);
    const sr = st.series[w];
    const total = sr.released.reduce((a, b) => a + b, 0) + sr.denied.reduce((a, b) => a + b, 0);
    const per = { hour: 'per minute', day: 'per 15 minutes', week: 'per hour' }[w];
    const body = html`<nav aria-label="Time window"><ul>${tabs}</ul></nav>
${windowBody(st.windows[w], w)}
<section aria-labelledby="per-minute"><h2 id="per-minute">Transfers ${per}, last ${w}</h2>
<div class="chart" data-chart="${jsonAttr(sr)}" data-unit="${per}" role="img" aria-label="Line chart of released and denied transfers ${per} over the last ${w}: ${total} decisions in all"></div>
</section>
<p class="muted"><small>As of ${st.at}${st.truncated ? html`; <strong class="partial">still reading the log: ${st.scanned} entries so far</strong>, the figures for the week are not complete yet` : ''}. Reload for newer figures (recomputed at most every 5 s).</small></p>`;
    res.set('Cache-Control', 'no-store').type('html').send(page(ctx.assets, { title: 'Overview', current: '/console/overview', session: s, body, charts: true }).text);
  });
}
