// Overview page (issue 16 page 1): released vs denied, top denial reasons, partners by volume and
// the cross-border share over the last hour, day or week, and transfers per minute over the last
// hour as a uPlot chart. Figures come from the transfer log's query API (overviewSource below).
import type { Router } from 'express';
import type { ApiDoc } from '../http/openapi.ts';
import type { TransferQuery } from '../transfer-log/query.ts';
import { html, jsonAttr, type Html } from './html.ts';
import { page } from './layout.ts';
import { sessionOf } from './console-auth.ts';
import type { ConsolePageContext } from './context.ts';
import { OverviewBuckets, WINDOWS, type OverviewStats, type WindowName, type WindowStats } from './overview-stats.ts';

const CACHE_MS = 5_000;
/** Entries folded in by one refresh at most; a first read of a big week goes on at the next one. */
const MAX_PER_REFRESH = 200_000;

/**
 * The figures, refreshed at most every CACHE_MS per instance however many staff have the page
 * open: the first refresh reads the last week of the log (oldest first, with the query API's
 * `since`), each later one only what was appended after the last stream id it read.
 */
export function overviewSource(query: Pick<TransferQuery, 'since'>, now: () => number = Date.now): () => Promise<OverviewStats> {
  const buckets = new OverviewBuckets();
  let cursor: string | null = null;
  let started = false;
  let cached: { at: number; stats: Promise<OverviewStats> } | null = null;
  const load = async (): Promise<OverviewStats> => {
    const t = now();
    // Until the week has been read once, only entries of the week; afterwards everything new.
    const filter = started ? {} : { from: new Date(t - WINDOWS.week).toISOString() };
    let read = 0;
    for (;;) {
      const r = await query.since(filter, cursor, 1000);
      for (const { entry } of r.items) buckets.add(entry);
      read += r.items.length;
      const moved = r.cursor !== null && r.cursor !== cursor;
      if (r.cursor) cursor = r.cursor;
      if (!moved) break;
      if (read >= MAX_PER_REFRESH) return buckets.stats(t, true);
    }
    started = true;
    return buckets.stats(t, false);
  };
  return () => {
    if (!cached || now() - cached.at > CACHE_MS) {
      // One refresh at a time: the next waits for this one, so the cursor is never read twice.
      const prev = cached?.stats.catch(() => undefined);
      const stats = (prev ?? Promise.resolve()).then(load);
      cached = { at: now(), stats };
      stats.catch(() => { cached = null; }); // a failed read is not served again
    }
    return cached.stats;
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
    summary: 'console page: released vs denied, egress-guard hits, top denial reasons, partners by volume, cross-border share (window=hour|day|week), transfers per minute over the last hour', auth: 'console session (admin or auditor)',
    responses: { 200: 'text/html', 303: 'no session: to /console/sign-in' },
  });
  r.get('/overview', ctx.auth.requireStaff('admin', 'auditor'), async (req, res) => {
    const s = sessionOf(res);
    const w: WindowName = req.query.window === 'day' || req.query.window === 'week' ? req.query.window : 'hour';
    await ctx.audit.logRead(s.staff, res.locals.requestId, 'console.overview', {}, { window: w });
    const st = await stats();
    const tabs = (Object.keys(WINDOWS) as WindowName[]).map((n) => html`<li><a href="/console/overview?window=${n}"${n === w ? html` aria-current="page"` : ''}>Last ${n}</a></li>`);
    const pm = st.perMinute;
    const lastHour = pm.released.reduce((a, b) => a + b, 0) + pm.denied.reduce((a, b) => a + b, 0);
    const body = html`<nav aria-label="Time window"><ul>${tabs}</ul></nav>
${windowBody(st.windows[w], w)}
<section aria-labelledby="per-minute"><h2 id="per-minute">Transfers per minute, last hour</h2>
<div class="chart" data-chart="${jsonAttr(pm)}" role="img" aria-label="Line chart of released and denied transfers per minute over the last hour: ${lastHour} decisions in all"></div>
</section>
<p class="muted"><small>As of ${st.at}${st.truncated ? html`; still reading the week (${st.scanned} entries so far), the figures are not complete yet` : ''}. Reload for newer figures (recomputed at most every 5 s).</small></p>`;
    res.set('Cache-Control', 'no-store').type('html').send(page(ctx.assets, { title: 'Overview', current: '/console/overview', session: s, body, charts: true }).text);
  });
}
