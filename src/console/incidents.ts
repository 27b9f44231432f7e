// Incidents (issue 16 page 9, from [2/6]): what needs a person now, each with its action —
// open incidents with the time left on their notification clock (RULES 50) and "Acknowledge";
// deletion notices past their confirmation deadline (RULES 23) and their partner's page, where a
// dead letter can be retried; re-identification requests waiting for a second admin (RULES 27)
// and "Approve", which a different admin than the requester may use: the user id is then shown
// once, on a no-store page, and never again. Every action goes through the service the admin API
// uses, with the staff identity as the actor, so the admin audit records it.
import type { Response, Router } from 'express';
import type { Incidents, Incident } from '../incidents/index.ts';
import type { OverdueView } from '../notices/overdue.ts';
import type { Reidentifications, ReidRequest } from '../reidentification/requests.ts';
import type { Actor } from '../auth/roles.ts';
import type { ApiDoc } from '../http/openapi.ts';
import { pathId } from '../http/path-ids.ts';
import { Problem } from '../http/problem.ts';
import { html, type Html } from './html.ts';
import { csrfField, page } from './layout.ts';
import { sessionOf } from './console-auth.ts';
import type { ConsolePageContext } from './context.ts';
import { ConsolePageError } from './page-error.ts';
import type { Session, Staff } from './sessions.ts';
import { timeLeft } from './incidents-clock.ts';

export interface IncidentsPageDeps {
  incidents: Pick<Incidents, 'list' | 'acknowledge'>;
  /** notices.overdue: deletion notices past their confirmation deadline (GET /admin/v1/notices/overdue's source). */
  overdue: (limit: number) => Promise<OverdueView>;
  reidentifications: Pick<Reidentifications, 'pending' | 'approve'>;
}

const actor = (s: Staff): Actor => ({ tokenId: s.id, role: s.role });
const LIMIT = 100;
const time = (iso: string | null) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '—');

function incidentRows(items: Incident[], s: Session, now: number): Html {
  const admin = s.staff.role === 'admin';
  return html`${items.map((i) => {
    const left = timeLeft(i.notifyBy, now);
    return html`<tr id="incident-${i.id}" data-incident-id="${i.id}"><th scope="row"><code>${i.id}</code></th><td>${i.kind}</td><td>${i.found}</td><td>${i.partnerId ?? i.chain ?? '—'}</td>
<td>${time(i.detectedAt)}</td><td class="${left.overdue ? 'overdue' : left.hours < 24 ? 'due-soon' : ''}">${left.text}<br><small>notify by ${time(i.notifyBy)}</small></td><td>${i.count}</td>
${admin ? html`<td><form method="post" action="/console/incidents/${i.id}/ack" data-confirm="Acknowledge incident ${i.id}? It stops counting as open (readiness, alerting, webhook retries).">${csrfField(s)}<button type="submit">Acknowledge</button></form></td>` : ''}</tr>`;
  })}`;
}

function reidRows(items: ReidRequest[], s: Session): Html {
  const admin = s.staff.role === 'admin';
  return html`${items.map((q) => html`<tr data-reid-id="${q.id}"><th scope="row"><code>${q.id}</code></th><td>${q.partnerId}</td><td>${q.reason}</td><td>${q.requestedBy}</td><td>${time(q.requestedAt)}</td><td>${time(q.expiresAt)}</td>
${admin ? html`<td>${q.requestedBy === s.staff.id
    ? html`<span class="muted">You requested this: another admin must approve it (RULES 27).</span>`
    : html`<form method="post" action="/console/reidentifications/${q.id}/approve" data-confirm="Approve and see the user id behind this pseudonym? It is shown to you once and recorded in the admin audit.">${csrfField(s)}<button type="submit">Approve</button></form>`}</td>` : ''}</tr>`)}`;
}

export function mountIncidents(r: Router, ctx: ConsolePageContext, doc: ApiDoc, d: IncidentsPageDeps, now: () => number = Date.now): void {
  const anyStaff = ctx.auth.requireStaff('admin', 'auditor');
  const admin = ctx.auth.requireStaff('admin');
  const send = (res: Response, status: number, s: Session, title: string, body: Html) =>
    res.status(status).set('Cache-Control', 'no-store').type('html').send(page(ctx.assets, { title, current: '/console/incidents', session: s, body }).text);
  const forbidden = { 403: 'text/html: an auditor, or a missing CSRF token or foreign Origin' };

  doc.add('GET', '/console/incidents', {
    summary: 'console page: open incidents with the time left to notify (RULES 50), overdue deletion confirmations (RULES 23), re-identification requests waiting for a second admin (RULES 27); for admins, acknowledge and approve',
    auth: 'console session (admin or auditor)', responses: { 200: 'text/html', 303: 'no session: to /console/sign-in' },
  });
  r.get('/incidents', anyStaff, async (_req, res) => {
    const s = sessionOf(res);
    await ctx.audit.record(s.staff, 'console.incidents.view', 'incidents');
    const [open, overdue, reids] = await Promise.all([d.incidents.list({ limit: LIMIT, status: 'open' }), d.overdue(LIMIT), d.reidentifications.pending(LIMIT)]);
    const admin = s.staff.role === 'admin';
    const action = admin ? html`<th scope="col">Action</th>` : '';
    const body = html`<section aria-labelledby="open-incidents"><h2 id="open-incidents">Open incidents</h2>
<table><caption>${open.items.length ? `${open.items.length} open, newest first` : 'No open incidents'}</caption>
<thead><tr><th scope="col">Id</th><th scope="col">Kind</th><th scope="col">Finding</th><th scope="col">Partner or chain</th><th scope="col">Detected (UTC)</th><th scope="col">Time left to notify</th><th scope="col">Detections</th>${action}</tr></thead>
<tbody>${incidentRows(open.items, s, now())}</tbody></table></section>
<section aria-labelledby="overdue-deletions"><h2 id="overdue-deletions">Overdue deletion confirmations</h2>
<table><caption>${overdue.total ? `${overdue.total} deletion notice${overdue.total === 1 ? '' : 's'} not confirmed by ${overdue.total === 1 ? 'its' : 'their'} deadline${overdue.total > overdue.items.length ? `; the ${overdue.items.length} longest overdue shown` : ''}` : 'None overdue'}</caption>
<thead><tr><th scope="col">Notice</th><th scope="col">Partner</th><th scope="col">Type</th><th scope="col">Queued</th><th scope="col">Confirm by</th><th scope="col">Attempts</th><th scope="col">Last status</th><th scope="col">Action</th></tr></thead>
<tbody>${overdue.items.map((n) => html`<tr><th scope="row"><code>${n.noticeId}</code></th><td>${n.partnerId}</td><td>${n.type}</td><td>${time(n.queuedAt)}</td><td class="overdue">${time(n.confirmBy)}</td><td>${n.attempts}</td><td>${n.lastStatus ?? '—'}</td>
<td><a href="/console/partners/${n.partnerId}#deliveries">Deliveries and dead letters</a></td></tr>`)}</tbody></table></section>
<section aria-labelledby="reid-pending"><h2 id="reid-pending">Re-identifications waiting for a second admin</h2>
<table><caption>${reids.length ? `${reids.length} waiting, soonest expiry first` : 'None waiting'}</caption>
<thead><tr><th scope="col">Request</th><th scope="col">Partner</th><th scope="col">Reason</th><th scope="col">Requested by</th><th scope="col">Requested</th><th scope="col">Expires</th>${action}</tr></thead>
<tbody>${reidRows(reids, s)}</tbody></table></section>
${admin ? '' : html`<p class="muted">You are signed in as an auditor: these lists are read-only for you.</p>`}`;
    send(res, 200, s, 'Incidents', body);
  });

  doc.add('POST', '/console/incidents/:id/ack', {
    summary: 'console: acknowledge an open incident, as POST /admin/v1/incidents/{id}/ack; admin only, CSRF token and Origin required', auth: 'console session (admin)',
    responses: { 303: 'to /console/incidents', 404: 'text/html: no such incident', 409: 'text/html: already acknowledged', ...forbidden },
  });
  r.post('/incidents/:id/ack', admin, async (req, res) => {
    const s = sessionOf(res);
    const out = await d.incidents.acknowledge(actor(s.staff), pathId(req, 'id', 'incident'));
    if (out === 'not_found') throw new ConsolePageError(404, 'There is no such incident.');
    if (out === 'not_open') throw new ConsolePageError(409, 'That incident was already acknowledged.');
    res.redirect(303, '/console/incidents');
  });

  doc.add('POST', '/console/reidentifications/:id/approve', {
    summary: 'console: approve a pending re-identification, as POST /admin/v1/reidentifications/{id}/approve (RULES 27): only an admin other than the requester; the page shows the user id once and is not stored (no-store)',
    auth: 'console session (admin)',
    responses: { 200: 'text/html: the user id, once', 403: 'text/html: the requester, an auditor, or a missing CSRF token or foreign Origin', 404: 'text/html: no such request, expired, or the pseudonym does not resolve', 409: 'text/html: already decided' },
  });
  r.post('/reidentifications/:id/approve', admin, async (req, res) => {
    const s = sessionOf(res);
    let out: Awaited<ReturnType<IncidentsPageDeps['reidentifications']['approve']>>;
    try {
      out = await d.reidentifications.approve(actor(s.staff), pathId(req, 'id', 'reidentification'));
    } catch (e) {
      if (!(e instanceof Problem)) throw e;
      if (e.code === 'second_admin_required') throw new ConsolePageError(403, 'You requested this re-identification, so you cannot approve it: another admin must (RULES 27).');
      if (e.status === 409) throw new ConsolePageError(409, 'This request was already decided; the user id is given once only.');
      if (e.code === 'subject_not_found') throw new ConsolePageError(404, 'The pseudonym does not resolve for that partner (malformed, another partner\'s, or a retired key version). The refusal is recorded.');
      if (e.status === 404) throw new ConsolePageError(404, 'There is no such request, or it expired.');
      throw e;
    }
    // RULES 27: the one response that carries a user id; nothing keeps it (no-store, not logged).
    send(res, 200, s, 'Re-identification approved', html`<article aria-labelledby="reid-title"><h2 id="reid-title">User behind the pseudonym</h2>
<p role="alert">This user id is shown on this page only. It is not stored and cannot be shown again: note it where the case needs it.</p>
<dl><dt>Request</dt><dd><code>${out.id}</code></dd><dt>Partner</dt><dd>${out.partnerId}</dd><dt>Reason</dt><dd>${out.reason}</dd><dt>Requested by</dt><dd>${out.requestedBy}</dd>
<dt>User id</dt><dd><code class="secret" id="reid-user-id">${out.userId}</code></dd></dl></article>
<p><a href="/console/incidents">Back to incidents</a></p>`);
  });
}
