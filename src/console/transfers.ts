// Transfer log search (issue 16 page 3): filters and a UTC time range, newest first, pages with
// the same encrypted, filter-bound, expiring cursors as the API (DESIGN 9), a detail drawer per
// entry, and the current filter exported as NDJSON through the log's export. Every read is
// audited like the API's (RULES 49).
import type { Router } from 'express';
import type { ApiDoc } from '../http/openapi.ts';
import { exportLine } from '../http/transfers-responses.ts';
import { openStreamCursor, sealCursor } from '../http/cursor-param.ts';
import { filterBinding } from '../http/transfer-params.ts';
import { sendNdjson } from '../http/stream-write.ts';
import type { TransferEntry } from '../transfer-log/entry.ts';
import { html } from './html.ts';
import { page } from './layout.ts';
import { sessionOf } from './console-auth.ts';
import type { ConsolePageContext } from './context.ts';
import { countryMatches, filterQueryString, logFilterOf, parseConsoleFilter, type ConsoleFilter } from './filters.ts';
import { filterForm } from './live.ts';
import { ConsolePageError } from './page-error.ts';
import { ROW_HEADINGS, entryDetail, entryRow } from './transfer-rows.ts';

const PAGE_SIZE = 50;
const ENTRY_ID = /^[A-Za-z0-9_-]{1,64}$/;
// An entry's `at` as the log writes it (toISOString), so the range below is always a valid date.
const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
// A chain id (transfer-log/chains.ts) and a seq, as a row's link gives them.
const CHAIN_ID = /^[A-Za-z0-9_-]{1,64}$/;
const SEQ = /^[1-9]\d{0,14}$/;
// A console cursor is bound to the whole filter, country included, and is no API cursor.
const binding = (f: ConsoleFilter) => [...filterBinding(logFilterOf(f)), `console:${f.country ?? ''}`];

export function mountTransfers(r: Router, ctx: ConsolePageContext, doc: ApiDoc): void {
  const { query } = ctx.transferLog;
  const compile = (f: Parameters<typeof query.compile>[0]) => query.compile(f);
  const staff = ctx.auth.requireStaff('admin', 'auditor');

  doc.add('GET', '/console/transfers', {
    summary: 'console page: transfer log search (partnerId, purpose, decision, country, subject, from, to; UTC), 50 a page, newest first, with an opaque cursor', auth: 'console session (admin or auditor)',
    responses: { 200: 'text/html', 400: 'text/html: the form with each bad field marked', 303: 'no session: to /console/sign-in' },
  });
  r.get('/transfers', staff, async (req, res) => {
    const s = sessionOf(res);
    const p = parseConsoleFilter(req.query, compile);
    let items: TransferEntry[] = [];
    let next: string | null = null;
    if (!p.errors.length) {
      const raw = typeof req.query.cursor === 'string' ? req.query.cursor : undefined;
      let after: string | null;
      try {
        after = openStreamCursor(ctx.cursors, 'transfers', binding(p.filter), raw, 'before');
      } catch {
        throw new ConsolePageError(400, 'This page link has expired or belongs to another filter. Start the search again.');
      }
      await ctx.audit.logRead(s.staff, res.locals.requestId, 'console.transfers.search', p.filter);
      // The country is matched here, so a page may hold fewer rows than PAGE_SIZE; the cursor still moves on.
      const got = await query.page(logFilterOf(p.filter), { limit: PAGE_SIZE, cursor: after });
      items = got.items.filter((e) => countryMatches(p.filter, e));
      next = sealCursor(ctx.cursors, 'transfers', binding(p.filter), got.nextCursor);
    }
    const qs = filterQueryString(p.form);
    const body = html`${filterForm('/console/transfers', p, true)}
${p.errors.length ? html`<p class="field-error" role="alert">Fix the marked fields to search.</p>` : html`
<p><a href="/console/transfers/export?${qs}" download="transfers.ndjson" role="button" class="secondary">Export this filter as NDJSON</a></p>
<table><caption>${items.length ? `${items.length} entries, newest first` : 'No entries match'}</caption><thead>${ROW_HEADINGS}</thead>
<tbody>${items.map(entryRow)}</tbody></table>
${next ? html`<p><a href="/console/transfers?${filterQueryString(p.form, { cursor: next })}">Older entries</a></p>` : ''}`}`;
    res.status(p.errors.length ? 400 : 200).set('Cache-Control', 'no-store').type('html')
      .send(page(ctx.assets, { title: 'Transfer log', current: '/console/transfers', session: s, body }).text);
  });

  doc.add('GET', '/console/transfers/entry', {
    summary: 'console: one entry\'s details (id, at, partnerId, chain and seq as given by a search row): a drawer fragment for htmx, else a page', auth: 'console session (admin or auditor)',
    responses: { 200: 'text/html', 400: 'a malformed id or time', 404: 'no such entry', 303: 'no session: to /console/sign-in' },
  });
  r.get('/transfers/entry', staff, async (req, res) => {
    const s = sessionOf(res);
    const { id, at, partnerId, chain, seq } = req.query;
    const atMs = typeof at === 'string' && ISO_MS.test(at) ? Date.parse(at) : NaN;
    if (typeof id !== 'string' || !ENTRY_ID.test(id) || typeof at !== 'string' || Number.isNaN(atMs)) throw new ConsolePageError(400, 'This entry link is not valid.');
    const p = parseConsoleFilter({ partnerId, from: at, to: new Date(atMs + 1).toISOString() }, compile);
    if (p.errors.length) throw new ConsolePageError(400, 'This entry link is not valid.');
    await ctx.audit.logRead(s.staff, res.locals.requestId, 'console.transfers.entry', p.filter, { entryId: id });
    // A row's link names its chain and seq: found by them, however busy the log is around it; the id,
    // time and partner must still be the entry's. Older links without them read the log from just
    // before the entry's time and stop at it (issue 16: under 1 s).
    const located = typeof chain === 'string' && CHAIN_ID.test(chain) && typeof seq === 'string' && SEQ.test(seq);
    const found = located
      ? await query.findBySeq(chain, Number(seq)).then((e) => (e && e.id === id && e.at === at && (partnerId === undefined || e.partnerId === partnerId) ? e : null))
      : await query.find(logFilterOf(p.filter), id);
    if (!found) throw new ConsolePageError(404, 'No such entry in the transfer log (it may have been trimmed by retention).');
    res.set('Cache-Control', 'no-store').type('html');
    if (req.headers['hx-request']) return void res.send(entryDetail(found).text);
    res.send(page(ctx.assets, { title: 'Transfer log entry', current: '/console/transfers', session: s, body: entryDetail(found) }).text);
  });

  doc.add('GET', '/console/transfers/export', {
    summary: 'console: every entry matching the search filter as NDJSON, oldest first (the log\'s export)', auth: 'console session (admin or auditor)',
    responses: { 200: { description: 'one entry a line, oldest first; a last {"error","requestId"} line if the export was cut short', ndjson: exportLine, ndjsonName: 'TransferExportLine' }, 400: 'text/html: a bad filter', 303: 'no session: to /console/sign-in' },
  });
  r.get('/transfers/export', staff, async (req, res) => {
    const s = sessionOf(res);
    const p = parseConsoleFilter(req.query, compile);
    if (p.errors.length) throw new ConsolePageError(400, 'The export\'s filter is not valid; fix it on the search page.');
    await ctx.audit.logRead(s.staff, res.locals.requestId, 'console.transfers.export', p.filter);
    const entries = async function* () {
      for await (const e of query.export(logFilterOf(p.filter))) if (countryMatches(p.filter, e)) yield e;
    };
    await sendNdjson(res, entries(), { 'Content-Disposition': 'attachment; filename="transfers.ndjson"' }, (e) =>
      ctx.log.error({ requestId: res.locals.requestId, err: e instanceof Error ? { name: e.name, message: e.message } : undefined }, 'console export failed'));
  });
}
