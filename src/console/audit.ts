// Audit (issue 16 page 8): the admin audit — every admin change through the API or the console,
// and every console action — newest first, filterable by action, actor and UTC time range, 50 a
// page with the same sealed, filter-bound cursors as GET /admin/v1/audit (DESIGN 9). Each entry
// opens (a <details>, no script) to its before/after diff, field by field, changed fields marked.
// Like the console's other log pages, for admins and auditors; reading it is itself audited (RULES 49).
import type { Router } from 'express';
import type { AuditEntry } from '../auth/admin-audit.ts';
import type { ApiDoc } from '../http/openapi.ts';
import { openStreamCursor, sealCursor } from '../http/cursor-param.ts';
import type { FieldError } from '../http/problem.ts';
import { html, type Html } from './html.ts';
import { page } from './layout.ts';
import { sessionOf } from './console-auth.ts';
import type { ConsolePageContext } from './context.ts';
import { ConsolePageError } from './page-error.ts';
import { filterQueryString } from './filters.ts';
import { auditDiff } from './audit-diff.ts';
import { SCAN_LIMIT, parseAuditFilter, readAuditPage, type AuditFilter, type ParsedAuditFilter, type ReadAudit } from './audit-query.ts';

export interface AuditPageDeps { read: ReadAudit }

const PAGE_SIZE = 50;
// The cursor opens only for the filter it was issued with, and is no API audit cursor.
const binding = (f: AuditFilter) => ['console', f.action ?? '', f.actor ?? '', String(f.fromMs ?? ''), String(f.toMs ?? '')];

const errorOf = (errors: FieldError[], f: string) => {
  const e = errors.find((x) => x.field === f);
  return e ? html`<small class="field-error" id="${f}-error">${e.reason}</small>` : '';
};
const described = (errors: FieldError[], f: string) => errors.some((x) => x.field === f) ? html` aria-invalid="true" aria-describedby="${f}-error"` : '';

function filterForm(p: ParsedAuditFilter): Html {
  const f = p.form;
  const input = (name: string, label: string, type = 'text', extra: Html | string = '') =>
    html`<label>${label}<input type="${type}" name="${name}" value="${f[name] ?? ''}"${extra}${described(p.errors, name)}>${errorOf(p.errors, name)}</label>`;
  return html`<form method="get" action="/console/audit" class="filters" role="search" aria-label="Filter the audit">
${input('action', 'Action (or its start)', 'text', html` placeholder="e.g. partners."`)}
${input('actor', 'Actor (token id, staff id or name)')}
${input('from', 'From (UTC)', 'datetime-local')}
${input('to', 'To (UTC)', 'datetime-local')}
<button type="submit">Apply</button></form>`;
}

const who = (e: AuditEntry) => {
  const st = (e.after as { staff?: { name?: unknown } } | null)?.staff;
  return typeof st?.name === 'string' ? html`${st.name} <small class="muted">(${e.actor.role}, <code>${e.actor.tokenId}</code>)</small>` : html`<code>${e.actor.tokenId}</code> <small class="muted">(${e.actor.role})</small>`;
};

function entry(e: AuditEntry): Html {
  const rows = auditDiff(e.before, e.after);
  const changed = rows.filter((r) => r.changed).length;
  return html`<li class="audit-entry"><details><summary><time datetime="${e.at}">${e.at}</time> · <strong>${e.action}</strong> on <code>${e.target}</code> by ${who(e)} <small class="muted">(${changed} changed)</small></summary>
<table class="diff"><caption>Before and after, field by field</caption><thead><tr><th scope="col">Field</th><th scope="col">Before</th><th scope="col">After</th></tr></thead>
<tbody>${rows.length ? rows.map((r) => html`<tr${r.changed ? html` class="changed"` : ''}><th scope="row"><code>${r.field}</code>${r.changed ? html` <small>changed</small>` : ''}</th><td>${r.before ?? html`<span class="muted">—</span>`}</td><td>${r.after ?? html`<span class="muted">—</span>`}</td></tr>`) : html`<tr><td colspan="3" class="muted">No before or after recorded.</td></tr>`}</tbody></table>
</details></li>`;
}

export function mountAudit(r: Router, ctx: ConsolePageContext, doc: ApiDoc, deps: AuditPageDeps): void {
  const staff = ctx.auth.requireStaff('admin', 'auditor');

  doc.add('GET', '/console/audit', {
    summary: `console page: the admin audit, newest first, 50 a page, filtered by action (prefix), actor (token id, staff id or name), from, to (UTC); each entry expands to its before/after diff; at most ${SCAN_LIMIT} entries read per page, with an opaque cursor to carry on`,
    auth: 'console session (admin or auditor)',
    responses: { 200: 'text/html', 400: 'text/html: the form with each bad field marked, or a cursor of another filter or expired', 303: 'no session: to /console/sign-in' },
  });
  r.get('/audit', staff, async (req, res) => {
    const s = sessionOf(res);
    const p = parseAuditFilter(req.query);
    let items: AuditEntry[] = [];
    let next: string | null = null;
    let scanned = 0;
    if (!p.errors.length) {
      let after: string | null;
      try {
        after = openStreamCursor(ctx.cursors, 'audit', binding(p.filter), typeof req.query.cursor === 'string' ? req.query.cursor : undefined, 'before');
      } catch {
        throw new ConsolePageError(400, 'This page link has expired or belongs to another filter. Start again from the audit page.');
      }
      // Which filters, not what was typed into actor (free text: RULES 24); action is a checked name.
      const used = { action: p.filter.action ?? null, actor: p.filter.actor !== undefined, from: p.form.from ?? null, to: p.form.to ?? null };
      await ctx.audit.record(s.staff, 'console.audit.view', 'admin-audit', { filter: used });
      ({ items, next, scanned } = await readAuditPage(deps.read, p.filter, PAGE_SIZE, after));
      next = sealCursor(ctx.cursors, 'audit', binding(p.filter), next);
    }
    const partial = next !== null && items.length < PAGE_SIZE;
    const body = html`${filterForm(p)}
${p.errors.length ? html`<p class="field-error" role="alert">Fix the marked fields to filter.</p>` : html`
<p class="muted">${items.length ? `${items.length} entries, newest first.` : 'No entries match.'}${partial ? ` ${scanned} entries were read for this page; older ones may match too.` : ''} Open an entry to see what it changed.</p>
<ul class="audit-list">${items.map(entry)}</ul>
${next ? html`<p><a href="/console/audit?${filterQueryString(p.form, { cursor: next })}">Older entries</a></p>` : ''}`}`;
    res.status(p.errors.length ? 400 : 200).set('Cache-Control', 'no-store').type('html')
      .send(page(ctx.assets, { title: 'Audit', current: '/console/audit', session: s, body }).text);
  });
}
