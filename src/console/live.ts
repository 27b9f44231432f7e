// Live transfers (issue 16 page 2): new log entries as Server-Sent Events, rendered as table rows
// that htmx's SSE extension prepends; filters for partner, purpose, decision and destination
// country; pause and resume in console.js. The stream follows the log with the same query
// machinery as /admin/v1/transfers/stream (latestId, then follow) and re-checks the session while
// it runs: a signed-out, timed-out or revoked session stops receiving entries (DESIGN 8).
import type { Request, Response, Router } from 'express';
import type { ApiDoc } from '../http/openapi.ts';
import { SSE_HEADERS } from '../http/sse.ts';
import { ClientGone, closeSignal, writeChunk } from '../http/stream-write.ts';
import { lastEventId } from '../http/transfer-params.ts';
import { PURPOSE_IDS } from '../policy/taxonomy.ts';
import { html, type Html } from './html.ts';
import { page } from './layout.ts';
import { sessionOf } from './console-auth.ts';
import type { ConsolePageContext } from './context.ts';
import { countryMatches, filterQueryString, logFilterOf, parseConsoleFilter, type ParsedFilter } from './filters.ts';
import { ConsolePageError } from './page-error.ts';
import { ROW_HEADINGS, entryRow } from './transfer-rows.ts';
import type { FieldError } from '../http/problem.ts';

const LIVE_KEYS = ['partnerId', 'purpose', 'decision', 'country'] as const;

export interface LiveOptions { pollMs?: number; heartbeatMs?: number; sessionCheckMs?: number }

const errorOf = (errors: FieldError[], field: string) => {
  const e = errors.find((x) => x.field === field);
  return e ? html`<small class="field-error" id="${field}-error">${e.reason}</small>` : '';
};
const described = (errors: FieldError[], field: string): Html =>
  errors.some((x) => x.field === field) ? html` aria-invalid="true" aria-describedby="${field}-error"` : html``;

/** The filter form shared by the live view and the search page. */
export function filterForm(action: string, p: ParsedFilter, extended: boolean): Html {
  const f = p.form;
  const opt = (v: string, cur: string | undefined, label = v) => html`<option value="${v}"${v === (cur ?? '') ? html` selected` : ''}>${label}</option>`;
  return html`<form method="get" action="${action}" class="filters" role="search" aria-label="Filter entries">
<label>Partner id<input name="partnerId" value="${f.partnerId ?? ''}"${described(p.errors, 'partnerId')}>${errorOf(p.errors, 'partnerId')}</label>
<label>Purpose<select name="purpose"${described(p.errors, 'purpose')}>${opt('', f.purpose, 'any')}${PURPOSE_IDS.map((x) => opt(x, f.purpose))}</select>${errorOf(p.errors, 'purpose')}</label>
<label>Decision<select name="decision">${opt('', f.decision, 'any')}${opt('released', f.decision)}${opt('denied', f.decision)}</select>${errorOf(p.errors, 'decision')}</label>
<label>Destination country<input name="country" value="${f.country ?? ''}" maxlength="2" placeholder="e.g. DE"${described(p.errors, 'country')}>${errorOf(p.errors, 'country')}</label>
${extended ? html`<label>Subject (user id)<input name="subject" value="${f.subject ?? ''}" autocomplete="off"${described(p.errors, 'subject')}>${errorOf(p.errors, 'subject')}</label>
<label>From (UTC)<input type="datetime-local" name="from" value="${(f.from ?? '').replace(/Z$/, '')}"${described(p.errors, 'from')}>${errorOf(p.errors, 'from')}</label>
<label>To (UTC)<input type="datetime-local" name="to" value="${(f.to ?? '').replace(/Z$/, '')}"${described(p.errors, 'to')}>${errorOf(p.errors, 'to')}</label>` : ''}
<button type="submit">Apply</button>
</form>`;
}

export function mountLive(r: Router, ctx: ConsolePageContext, doc: ApiDoc, opts: LiveOptions = {}): void {
  const { query } = ctx.transferLog;
  const compile = (f: Parameters<typeof query.compile>[0]) => query.compile(f);
  const staff = ctx.auth.requireStaff('admin', 'auditor');

  doc.add('GET', '/console/live', {
    summary: 'console page: live transfers (filters partnerId, purpose, decision, country; pause and resume)', auth: 'console session (admin or auditor)',
    responses: { 200: 'text/html', 303: 'no session: to /console/sign-in' },
  });
  r.get('/live', staff, (req, res) => {
    const s = sessionOf(res);
    const p = parseConsoleFilter(req.query, compile, LIVE_KEYS);
    const stream = `/console/live/stream?${filterQueryString(p.form)}`;
    const body = html`${filterForm('/console/live', p, false)}
<p><button type="button" id="live-pause" aria-pressed="false" aria-controls="live-rows">Pause</button>
<span id="live-status" role="status" aria-live="polite">Connecting</span></p>
${p.errors.length ? html`<p class="field-error">Fix the filter to start the live view.</p>` : html`<div hx-ext="sse" sse-connect="${stream}" sse-close="signed-out">
<table><caption>Newest first; up to 200 rows are kept</caption><thead>${ROW_HEADINGS}</thead>
<tbody id="live-rows" sse-swap="transfer" hx-swap="afterbegin"></tbody></table></div>`}`;
    res.status(p.errors.length ? 400 : 200).set('Cache-Control', 'no-store').type('html')
      .send(page(ctx.assets, { title: 'Live transfers', current: '/console/live', session: s, body }).text);
  });

  doc.add('GET', '/console/live/stream', {
    summary: 'console: live entries as Server-Sent Events (event: transfer, data: one HTML table row; event: signed-out when the session ends); resume with Last-Event-ID', auth: 'console session (admin or auditor)',
    responses: { 200: { description: 'event: transfer, data: one HTML table row; event: signed-out when the session ends', media: 'text/event-stream' }, 400: 'text/html: a bad filter or Last-Event-ID', 303: 'no session: to /console/sign-in' },
  });
  r.get('/live/stream', staff, async (req, res) => {
    const s = sessionOf(res);
    const p = parseConsoleFilter(req.query, compile, LIVE_KEYS);
    if (p.errors.length) throw new ConsolePageError(400, 'The live view\'s filter is not valid.');
    const after = lastEventId(req) ?? (await query.latestId());
    await ctx.audit.logRead(s.staff, res.locals.requestId, 'console.live', p.filter);
    await follow(req, res, ctx, p, after, opts);
  });
}

async function follow(req: Request, res: Response, ctx: ConsolePageContext, p: ParsedFilter, after: string, opts: LiveOptions): Promise<void> {
  const ended = new AbortController();
  const signal = AbortSignal.any([closeSignal(res), ended.signal]);
  res.status(200);
  for (const [k, v] of Object.entries(SSE_HEADERS)) res.setHeader(k, v);
  res.flushHeaders();
  const heartbeat = setInterval(() => {
    if (!res.destroyed && !res.writableEnded && !res.writableNeedDrain) res.write(': keep-alive\n\n');
  }, opts.heartbeatMs ?? 15_000);
  // Permission at the moment of release (DESIGN 8): the session is looked at again while streaming.
  const recheck = setInterval(() => {
    ctx.auth.current(req, res, { touch: false }).then((still) => { if (!still) ended.abort(); }, () => ended.abort());
  }, opts.sessionCheckMs ?? 10_000);
  try {
    await writeChunk(res, 'retry: 2000\n\n');
    for await (const { streamId, entry } of ctx.transferLog.query.follow(logFilterOf(p.filter), after, { signal, pollMs: opts.pollMs ?? 250 })) {
      // One data line per event: a row never holds a line break, and is made sure not to.
      if (countryMatches(p.filter, entry)) await writeChunk(res, `id: ${streamId}\nevent: transfer\ndata: ${entryRow(entry).text.replace(/[\r\n]+/g, ' ')}\n\n`);
    }
    if (ended.signal.aborted && !res.destroyed) res.end('event: signed-out\ndata: the session ended\n\n');
    else res.end();
  } catch (e) {
    if (e instanceof ClientGone) return;
    ctx.log.error({ requestId: res.locals.requestId, err: e instanceof Error ? { name: e.name, message: e.message } : undefined }, 'console live stream failed');
    if (!res.destroyed) res.end(`event: error\ndata: ${JSON.stringify({ requestId: String(res.locals.requestId ?? '') })}\n\n`);
  } finally {
    clearInterval(heartbeat);
    clearInterval(recheck);
  }
}
