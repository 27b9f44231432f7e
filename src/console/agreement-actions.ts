// An agreement's status actions and its second-admin review (issue 16 page 6; RULES 19). Suspend,
// resume and terminate each go through a confirmation page (a plain GET that changes nothing and
// says what will happen) whose form does the POST, so the confirmation works without script and
// is the same for keyboard and screen-reader users. A version pending review shows what it adds;
// its author is told why they cannot approve it (another admin must), and the store refuses it
// anyway. All through the Agreements service the admin API uses, with the staff identity as actor.
import type { Request, Response, Router } from 'express';
import type { Agreements, AgreementVersion, Transition } from '../agreements/agreement-store.ts';
import type { Actor } from '../auth/roles.ts';
import type { ApiDoc } from '../http/openapi.ts';
import { Problem } from '../http/problem.ts';
import { html, type Html } from './html.ts';
import { csrfField } from './layout.ts';
import { sessionOf } from './console-auth.ts';
import type { ConsolePageContext } from './context.ts';
import type { Session } from './sessions.ts';
import { ConsolePageError } from './page-error.ts';

export const staffActor = (s: Session): Actor => ({ tokenId: s.staff.id, role: s.staff.role });

// Which buttons to offer; the store decides what is allowed (409 otherwise).
const OFFERED: Record<Transition, readonly string[]> = { suspend: ['active'], resume: ['suspended'], terminate: ['active', 'suspended'] };

const CONSEQUENCE: Record<Transition, string> = {
  suspend: 'Every gateway instance refuses this partner\'s pulls (403 agreement_inactive) within a second, until the agreement is resumed.',
  resume: 'Pulls under this version are allowed again on every instance within a second.',
  terminate: 'Termination is final: no version can follow it and it cannot be resumed. The partner\'s pseudonym key rotates at once (RULES 29), so the pseudonyms it holds stop resolving.',
};

const LABEL: Record<Transition, string> = { suspend: 'Suspend', resume: 'Resume', terminate: 'Terminate' };

export function actionsBlock(partnerId: string, cur: AgreementVersion): Html | string {
  const offered = (Object.keys(OFFERED) as Transition[]).filter((t) => OFFERED[t].includes(cur.status));
  return offered.length ? html`<p class="actions">${offered.map((t) => html`<a role="button" class="${t === 'terminate' ? 'danger' : t === 'suspend' ? 'secondary' : ''}" href="/console/agreements/${partnerId}/${t}">${LABEL[t]}…</a> `)}</p>` : '';
}

export function reviewBlock(s: Session, partnerId: string, pending: AgreementVersion): Html {
  const add = pending.review?.additions;
  const isAdmin = s.staff.role === 'admin';
  const mine = pending.createdBy === s.staff.id;
  const form = (action: 'approve' | 'reject', label: string, cls: string) => html`<form method="post" action="/console/agreements/${partnerId}/${action}"${action === 'reject' ? html` data-confirm="Reject version ${pending.version}? It never takes effect."` : ''}>${csrfField(s)}<input type="hidden" name="version" value="${pending.version}"><button type="submit" class="${cls}">${label}</button></form>`;
  return html`<article class="pending" aria-labelledby="pending-title"><h2 id="pending-title">Version ${pending.version} is pending review</h2>
<p>It adds ${add?.countries.length ? html`processing countries <strong>${add.countries.join(', ')}</strong>` : 'no processing country'}${add?.subProcessors.length ? html` and sub-processors <strong>${add.subProcessors.map((x) => `${x.name} (${x.country}, ${x.purpose})`).join('; ')}</strong>` : ''}. Until another admin approves it, the version in force keeps answering partners (RULES 19).</p>
<p>Written by <code>${pending.createdBy ?? 'unknown'}</code>. <a href="/console/agreements/${partnerId}/diff?a=${pending.version - 1}&amp;b=${pending.version}">Compare with the version before</a></p>
${isAdmin ? html`${mine ? html`<p class="field-error" id="approve-why">You wrote this version, so you cannot approve it: a second admin must (RULES 19). You can still reject it.</p>` : form('approve', `Approve version ${pending.version}`, '')}
${form('reject', `Reject version ${pending.version}`, 'secondary')}` : ''}</article>`;
}

export interface ActionDeps {
  agreements: Pick<Agreements, 'transition' | 'approve' | 'reject'>;
  partnerOf: (req: Request) => Promise<string>;
  send: (res: Response, status: number, s: Session, title: string, body: Html) => void;
}

/** A refusal of the store as a page with its own words (ids and versions only, never request values). */
const asPage = (e: unknown): unknown => (e instanceof Problem && (e.status === 403 || e.status === 409) ? new ConsolePageError(e.status, e.message) : e);

export function mountAgreementActions(r: Router, ctx: ConsolePageContext, doc: ApiDoc, deps: ActionDeps): void {
  const admin = ctx.auth.requireStaff('admin');
  for (const t of Object.keys(OFFERED) as Transition[]) {
    doc.add('GET', `/console/agreements/:partnerId/${t}`, { summary: `console page: confirm to ${t} the partner's agreement (changes nothing by itself); admin only`, auth: 'console session (admin)', responses: { 200: 'text/html: what will happen, and the form that does it', 303: 'no session: to /console/sign-in', 403: 'text/html: an auditor', 404: 'text/html: no such partner' } });
    r.get(`/agreements/:partnerId/${t}`, admin, async (req, res) => {
      const s = sessionOf(res);
      const id = await deps.partnerOf(req);
      deps.send(res, 200, s, `Agreement agr_${id}`, html`<article aria-labelledby="confirm-title"><h2 id="confirm-title">${LABEL[t]} agreement agr_${id}?</h2><p>${CONSEQUENCE[t]}</p>
<form method="post" action="/console/agreements/${id}/${t}">${csrfField(s)}<button type="submit"${t === 'resume' ? '' : html` class="danger"`}>Yes, ${t} agr_${id}</button></form>
<p><a href="/console/agreements/${id}">Cancel</a></p></article>`);
    });
    doc.add('POST', `/console/agreements/:partnerId/${t}`, { summary: `console: ${t} the partner's current agreement version, as POST /admin/v1/agreements/{id}/${t} does; admin only, CSRF token and Origin required`, auth: 'console session (admin)', responses: { 303: `done: to the agreement page`, 403: 'text/html: an auditor, or a missing CSRF token or foreign Origin', 404: 'text/html: no such partner or agreement', 409: 'text/html: not allowed from the current status' } });
    r.post(`/agreements/:partnerId/${t}`, admin, async (req, res) => {
      const s = sessionOf(res);
      const id = await deps.partnerOf(req);
      await deps.agreements.transition(staffActor(s), id, t).catch((e) => { throw e instanceof Problem && e.status === 404 ? new ConsolePageError(404, 'This partner has no agreement yet.') : asPage(e); });
      res.redirect(303, `/console/agreements/${id}`);
    });
  }
  for (const action of ['approve', 'reject'] as const) {
    doc.add('POST', `/console/agreements/:partnerId/${action}`, {
      summary: `console: ${action} the version pending review (form field version), as POST /admin/v1/agreements/{id}/${action} does${action === 'approve' ? '; RULES 19: refused to the admin who wrote that version' : ''}; admin only, CSRF token and Origin required`, auth: 'console session (admin)',
      responses: { 303: 'done: to the agreement page', 400: 'text/html: version is not a number', 403: `text/html: an auditor, a missing CSRF token or foreign Origin${action === 'approve' ? ', or the version\'s own author (second_admin_required)' : ''}`, 404: 'text/html: no such partner', 409: 'text/html: nothing (or another version) pending review' },
    });
    r.post(`/agreements/:partnerId/${action}`, admin, async (req, res) => {
      const s = sessionOf(res);
      const id = await deps.partnerOf(req);
      const v = String((req.body as Record<string, unknown> | undefined)?.version ?? '');
      if (!/^[1-9]\d{0,8}$/.test(v)) throw new ConsolePageError(400, 'The form did not name a version.');
      await deps.agreements[action](staffActor(s), id, Number(v)).catch((e) => { throw asPage(e); });
      res.redirect(303, `/console/agreements/${id}`);
    });
  }
}
