// Jurisdiction (issue 16 page 7; RULES 17, 20): the governed adequacy list with each entry's
// justification, approver and review date — an entry past its review date is highlighted, because
// it already counts as absent (RULES 17) — and the country kill-switch, each change behind a
// confirmation. Every change goes through the jurisdiction service the admin API uses
// (validation, the Redis script with its admin audit entry, the pub/sub to every instance), with
// the staff identity as the actor. Auditors see the lists and no form; their writes are 403.
import type { Request, Response, Router } from 'express';
import type { JurisdictionService, JurisdictionView } from '../jurisdiction/service.ts';
import type { Actor } from '../auth/roles.ts';
import type { ApiDoc } from '../http/openapi.ts';
import { Problem, type FieldError } from '../http/problem.ts';
import { html, type Html } from './html.ts';
import { csrfField, page } from './layout.ts';
import { sessionOf } from './console-auth.ts';
import type { ConsolePageContext } from './context.ts';
import type { Session, Staff } from './sessions.ts';
import { fieldError, formValues, invalidMark } from './jurisdiction-form.ts';

export type JurisdictionPageDeps = Pick<JurisdictionService, 'view' | 'putAdequate' | 'removeAdequate' | 'block' | 'unblock'>;

const actor = (s: Staff): Actor => ({ tokenId: s.id, role: s.role });
const DAY_MS = 86_400_000;
/** Reviews due within this many days are flagged as coming up. */
const SOON_DAYS = 30;
const day = (iso: string) => iso.slice(0, 10);

type FormState = { form: 'adequate' | 'block'; values: Record<string, string>; errors: FieldError[] };

function reviewCell(e: JurisdictionView['adequate'][number], now: number): Html {
  if (e.expired) return html`<td class="overdue"><strong>Review overdue</strong> since ${day(e.reviewBy)}: counts as absent</td>`;
  const left = Math.ceil((Date.parse(e.reviewBy) - now) / DAY_MS);
  return left <= SOON_DAYS ? html`<td class="due-soon">${day(e.reviewBy)} (in ${left} days)</td>` : html`<td class="nowrap">${day(e.reviewBy)}</td>`;
}

function adequacyTable(v: JurisdictionView, s: Session, now: number): Html {
  const admin = s.staff.role === 'admin';
  const overdue = v.adequate.filter((e) => e.expired).length;
  return html`<section aria-labelledby="adequacy"><h2 id="adequacy">Adequacy list</h2>
<p>Transfers to a country on this list need no cross-border consent (RULES 16). An entry past its review date counts as absent until it is re-approved (RULES 17).${overdue ? html` <strong class="overdue">${overdue} review${overdue === 1 ? '' : 's'} overdue.</strong>` : ''}</p>
<table><caption>Adequacy entries: ${v.adequate.length} (list version ${v.version}; home ${v.home})</caption>
<thead><tr><th scope="col">Country</th><th scope="col">Justification</th><th scope="col">Approved by</th><th scope="col">Approved</th><th scope="col">Review by</th>${admin ? html`<th scope="col">Action</th>` : ''}</tr></thead>
<tbody>${v.adequate.map((e) => html`<tr data-country="${e.country}"${e.expired ? html` class="overdue-row"` : ''}><th scope="row">${e.country}</th><td>${e.justification}</td><td>${e.approvedBy}</td><td class="nowrap">${day(e.approvedAt)}</td>${reviewCell(e, now)}
${admin ? html`<td><form method="post" action="/console/jurisdiction/adequate/${e.country}/remove" data-confirm="Take ${e.country} off the adequacy list? Transfers there will then need each user's cross-border consent.">${csrfField(s)}<button type="submit" class="secondary outline">Remove</button></form></td>` : ''}</tr>`)}</tbody></table></section>`;
}

function blockedTable(v: JurisdictionView, s: Session): Html {
  const admin = s.staff.role === 'admin';
  return html`<section aria-labelledby="blocked"><h2 id="blocked">Country kill-switch</h2>
<p>Every transfer to a partner processing in a blocked country is refused (<code>country_blocked</code>) on every instance at once (RULES 20).</p>
<table><caption>Blocked countries: ${v.blocked.length}</caption>
<thead><tr><th scope="col">Country</th><th scope="col">Reason</th><th scope="col">Blocked by</th><th scope="col">Since</th>${admin ? html`<th scope="col">Action</th>` : ''}</tr></thead>
<tbody>${v.blocked.map((b) => html`<tr data-country="${b.country}"><th scope="row">${b.country}</th><td>${b.reason}</td><td>${b.blockedBy}</td><td>${b.blockedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</td>
${admin ? html`<td><form method="post" action="/console/jurisdiction/blocked/${b.country}/unblock" data-confirm="Lift the block on ${b.country}? Transfers there resume at once where agreements allow them.">${csrfField(s)}<button type="submit" class="secondary outline">Unblock</button></form></td>` : ''}</tr>`)}</tbody></table></section>`;
}

function forms(s: Session, st: FormState | null): Html {
  const of = (f: FormState['form']): Pick<FormState, 'values' | 'errors'> => (st?.form === f ? st : { values: {}, errors: [] });
  const a = of('adequate');
  const b = of('block');
  return html`<section aria-labelledby="block-form"><h2 id="block-form">Block a country</h2>
<form method="post" action="/console/jurisdiction/blocked" data-confirm="Block every transfer to partners processing in this country, on every instance, now?" novalidate>${csrfField(s)}
<div class="grid"><label>Country (ISO code)<input name="country" maxlength="2" placeholder="e.g. DE" value="${b.values.country ?? ''}"${invalidMark(b.errors, 'block-country', 'country')}>${fieldError(b.errors, 'block-country', 'country')}</label>
<label>Reason<input name="reason" value="${b.values.reason ?? ''}"${invalidMark(b.errors, 'block-reason', 'reason')}>${fieldError(b.errors, 'block-reason', 'reason')}</label></div>
<button type="submit" class="contrast">Block country</button></form></section>
<section aria-labelledby="adequate-form"><h2 id="adequate-form">Approve an adequacy entry</h2>
<p class="muted">Adds a country, or re-approves one with a new review date. You are recorded as the approver.</p>
<form method="post" action="/console/jurisdiction/adequate" data-confirm="Record this adequacy decision with you as the approver?" novalidate>${csrfField(s)}
<div class="grid"><label>Country (ISO code)<input name="country" maxlength="2" value="${a.values.country ?? ''}"${invalidMark(a.errors, 'adequate-country', 'country')}>${fieldError(a.errors, 'adequate-country', 'country')}</label>
<label>Review by<input name="reviewBy" type="date" value="${a.values.reviewBy ?? ''}"${invalidMark(a.errors, 'adequate-reviewBy', 'reviewBy')}>${fieldError(a.errors, 'adequate-reviewBy', 'reviewBy')}</label></div>
<label>Justification (the legal ground: treaty, law or counsel's assessment)<textarea name="justification" rows="2"${invalidMark(a.errors, 'adequate-justification', 'justification')}>${a.values.justification ?? ''}</textarea>${fieldError(a.errors, 'adequate-justification', 'justification')}</label>
<button type="submit">Approve entry</button></form></section>`;
}

export function mountJurisdiction(r: Router, ctx: ConsolePageContext, doc: ApiDoc, j: JurisdictionPageDeps, now: () => number = Date.now): void {
  const anyStaff = ctx.auth.requireStaff('admin', 'auditor');
  const admin = ctx.auth.requireStaff('admin');

  const send = async (res: Response, status: number, s: Session, st: FormState | null = null) => {
    const v = await j.view();
    const body = html`${adequacyTable(v, s, now())}${blockedTable(v, s)}
${s.staff.role === 'admin' ? forms(s, st) : html`<p class="muted">You are signed in as an auditor: the jurisdiction lists are read-only for you.</p>`}`;
    res.status(status).set('Cache-Control', 'no-store').type('html').send(page(ctx.assets, { title: 'Jurisdiction', current: '/console/jurisdiction', session: s, body }).text);
  };
  /** A service's 400 (or 404 for a missing entry) becomes the form again with its fields marked. */
  const change = (form: FormState['form'], fields: readonly string[], run: (a: Actor, v: Record<string, string>) => Promise<unknown>) =>
    async (req: Request, res: Response) => {
      const s = sessionOf(res);
      const values = formValues(req.body, fields);
      try {
        await run(actor(s.staff), values);
      } catch (e) {
        if (!(e instanceof Problem) || e.status !== 400) throw e;
        return void (await send(res, 400, s, { form, values, errors: (e.extra.errors as FieldError[]) ?? [] }));
      }
      res.redirect(303, '/console/jurisdiction');
    };
  const forbidden = { 403: 'text/html: an auditor, or a missing CSRF token or foreign Origin' };

  doc.add('GET', '/console/jurisdiction', {
    summary: 'console page: the adequacy list (justification, approver, review date; overdue reviews highlighted) and the blocked countries; for admins, forms to block, unblock, approve and remove',
    auth: 'console session (admin or auditor)', responses: { 200: 'text/html', 303: 'no session: to /console/sign-in' },
  });
  r.get('/jurisdiction', anyStaff, async (_req, res) => {
    const s = sessionOf(res);
    await ctx.audit.record(s.staff, 'console.jurisdiction.view', 'jurisdiction');
    await send(res, 200, s);
  });

  doc.add('POST', '/console/jurisdiction/blocked', {
    summary: 'console: country kill-switch (form fields country, reason), as PUT /admin/v1/jurisdiction/blocked/{country}; admin only, CSRF token and Origin required', auth: 'console session (admin)',
    responses: { 303: 'blocked: to /console/jurisdiction', 400: 'text/html: the form with each bad field marked', ...forbidden },
  });
  r.post('/jurisdiction/blocked', admin, change('block', ['country', 'reason'], (a, v) => j.block(a, v.country!.toUpperCase(), { reason: v.reason })));

  doc.add('POST', '/console/jurisdiction/blocked/:country/unblock', {
    summary: 'console: lift the kill-switch for a country, as DELETE /admin/v1/jurisdiction/blocked/{country}; admin only', auth: 'console session (admin)',
    responses: { 303: 'to /console/jurisdiction', 400: 'text/html: not a country code', 404: 'text/html: not blocked', ...forbidden },
  });
  r.post('/jurisdiction/blocked/:country/unblock', admin, async (req, res) => {
    await j.unblock(actor(sessionOf(res).staff), String(req.params.country));
    res.redirect(303, '/console/jurisdiction');
  });

  doc.add('POST', '/console/jurisdiction/adequate', {
    summary: 'console: put a country on the adequacy list or re-approve it (form fields country, justification, reviewBy as a date), as PUT /admin/v1/jurisdiction/adequate/{country}; the staff member is the approver; admin only',
    auth: 'console session (admin)', responses: { 303: 'to /console/jurisdiction', 400: 'text/html: the form with each bad field marked', ...forbidden },
  });
  r.post('/jurisdiction/adequate', admin, change('adequate', ['country', 'justification', 'reviewBy'], (a, v) =>
    j.putAdequate(a, v.country!.toUpperCase(), { justification: v.justification, reviewBy: v.reviewBy })));

  doc.add('POST', '/console/jurisdiction/adequate/:country/remove', {
    summary: 'console: take a country off the adequacy list, as DELETE /admin/v1/jurisdiction/adequate/{country}; admin only', auth: 'console session (admin)',
    responses: { 303: 'to /console/jurisdiction', 400: 'text/html: not a country code', 404: 'text/html: not on the list', ...forbidden },
  });
  r.post('/jurisdiction/adequate/:country/remove', admin, async (req, res) => {
    await j.removeAdequate(actor(sessionOf(res).staff), String(req.params.country));
    res.redirect(303, '/console/jurisdiction');
  });
}
