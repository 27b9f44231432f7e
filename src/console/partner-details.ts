// Partner details (issue 16 page 5, second part): one partner's page — who receives its data (the
// registered legal entity, the agreement's processing countries and sub-processors), its JWKS
// with an upload form whose validation errors are shown, its pseudonym key version with a
// rotation, its denials (transfer log entries decided `denied`, and the access-denial record of
// its client ids), and its notice deliveries and dead letters, each dead letter with a retry.
// Writes go through the services the admin API uses (partners.setJwks, partnerKeys.rotate,
// notices.retryDead), with the staff identity as the actor, so the admin audit records them.
// Auditors read; every form is for admins, and an auditor's forged write is 403 (requireStaff).
import type { Response, Router } from 'express';
import type { Partners, Partner } from '../agreements/partners.ts';
import type { ActiveAgreements } from '../agreements/active-cache.ts';
import type { AccessDenials } from '../access-denials/index.ts';
import type { Notices } from '../notices/index.ts';
import type { PartnerKeyVersions } from '../keys/partner-key-versions.ts';
import type { Actor } from '../auth/roles.ts';
import type { ApiDoc } from '../http/openapi.ts';
import { pathId } from '../http/path-ids.ts';
import { Problem, type FieldError } from '../http/problem.ts';
import { html, type Html } from './html.ts';
import { csrfField, page } from './layout.ts';
import { sessionOf } from './console-auth.ts';
import type { ConsolePageContext } from './context.ts';
import { ConsolePageError } from './page-error.ts';
import type { Session, Staff } from './sessions.ts';
import { invalidMark } from './jurisdiction-form.ts';
import { ROW_HEADINGS, entryRow } from './transfer-rows.ts';
import { deliveriesSection, recipientsSection, type DeadLetter } from './partner-details-sections.ts';

export interface PartnerDetailsDeps {
  partners: Pick<Partners, 'get' | 'setJwks'>;
  partnerKeys: Pick<PartnerKeyVersions, 'rotate'> & { store: Pick<PartnerKeyVersions['store'], 'read'> };
  agreements: Pick<ActiveAgreements, 'current'>;
  accessDenials: Pick<AccessDenials, 'page'>;
  notices: Pick<Notices, 'recent' | 'deadLetters' | 'retryDead'>;
}

const actor = (s: Staff): Actor => ({ tokenId: s.id, role: s.role });
const SHOWN = 20;
/** The dead-letter list is shared by all partners; this many of the newest are searched for one. */
const DEAD_SCAN = 1000;
const DENIAL_DAYS = 30;
const dayOf = (t: number) => new Date(t).toISOString().slice(0, 10);

interface JwksForm { text: string; errors: FieldError[] }

function jwksSection(p: Partner, s: Session, form: JwksForm | null): Html {
  const kids = p.jwks?.keys.map((k) => `${k.kid} (${String(k.use ?? 'sig')}, ${String(k.alg ?? k.kty)})`) ?? [];
  const errors = form?.errors ?? [];
  return html`<section aria-labelledby="jwks"><h2 id="jwks">Public keys (JWKS)</h2>
<p>${kids.length ? html`Registered keys: ${kids.map((k, i) => html`${i ? ', ' : ''}<code>${k}</code>`)}` : html`<span class="muted">No JWKS registered: the partner can use client_secret_basic only, and no encrypted responses.</span>`}</p>
${s.staff.role === 'admin' ? html`<form method="post" action="/console/partners/${p.id}/jwks" novalidate>${csrfField(s)}
<label>Upload a JWKS (public keys only; replaces the registered set)<textarea name="jwks" rows="5" spellcheck="false" placeholder='{"keys":[{"kty":"EC","crv":"P-256","kid":"...","use":"sig","alg":"ES256","x":"...","y":"..."}]}'${invalidMark(errors, 'jwks', 'jwks')}>${form?.text ?? ''}</textarea>
${errors.length ? html`<small class="field-error" id="jwks-error" role="alert">${errors.map((e) => html`${e.field}: ${e.reason}<br>`)}</small>` : ''}</label>
<button type="submit">Upload JWKS</button></form>` : ''}</section>`;
}

function keySection(p: Partner, s: Session, key: { current: number; retired: Array<{ version: number; retiredAt: string }> }): Html {
  return html`<section aria-labelledby="pseudonym-key"><h2 id="pseudonym-key">Pseudonym key</h2>
<p>Current version <strong id="key-version">v${key.current}</strong>${key.retired.length ? html`; retired: ${key.retired.map((r) => `v${r.version} (${r.retiredAt.slice(0, 10)})`).join(', ')}` : ''}.</p>
${s.staff.role === 'admin' ? html`<form method="post" action="/console/partners/${p.id}/keys/rotate" data-confirm="Rotate ${p.id}'s pseudonym key? New pulls get new pseudonyms; the old ones resolve only during the grace period (RULES 29).">${csrfField(s)}
<button type="submit" class="secondary">Rotate pseudonym key</button></form>` : ''}</section>`;
}

export function mountPartnerDetails(r: Router, ctx: ConsolePageContext, doc: ApiDoc, d: PartnerDetailsDeps, now: () => number = Date.now): void {
  const anyStaff = ctx.auth.requireStaff('admin', 'auditor');
  const admin = ctx.auth.requireStaff('admin');
  const partnerOf = async (id: string) => {
    const p = await d.partners.get(id);
    if (!p) throw new ConsolePageError(404, 'There is no partner by that id.');
    return p;
  };

  const render = async (res: Response, status: number, s: Session, p: Partner, extra: { jwks?: JwksForm; notice?: Html } = {}) => {
    const to = now();
    const denialFilter = { partnerId: p.id, decision: 'denied' as const };
    // RULES 49: both denial records are read under the session's role, and each read is logged.
    await ctx.audit.logRead(s.staff, res.locals.requestId, 'console.partner.denials', denialFilter);
    await ctx.audit.record(s.staff, 'console.partner.access_denials', p.id, { clientIds: p.clientIds, days: DENIAL_DAYS });
    const [key, denied, accessRows, recent, dead] = await Promise.all([
      d.partnerKeys.store.read(p.id),
      ctx.transferLog.query.page(denialFilter, { limit: SHOWN }),
      Promise.all(p.clientIds.map((clientId) => d.accessDenials.page({ from: dayOf(to - DENIAL_DAYS * 86_400_000), to: dayOf(to), clientId }, { limit: SHOWN }))),
      d.notices.recent(p.id, SHOWN),
      d.notices.deadLetters(DEAD_SCAN),
    ]);
    const access = accessRows.flatMap((x) => x.items);
    const deadOfPartner = (dead as DeadLetter[]).filter((x) => x.partnerId === p.id);
    const body = html`${extra.notice ?? ''}
<p><a href="/console/partners">All partners</a></p>
<dl class="facts"><dt>Name</dt><dd>${p.name}</dd><dt>Privacy contact</dt><dd>${p.contactEmail}</dd><dt>Registered</dt><dd>${p.createdAt.slice(0, 10)}</dd>
<dt>Credentials</dt><dd>${p.clientIds.length ? p.clientIds.map((c, i) => html`${i ? ', ' : ''}<code>${c}</code>`) : 'none'}</dd></dl>
${recipientsSection(p, d.agreements.current(p.id))}
${jwksSection(p, s, extra.jwks ?? null)}
${keySection(p, s, key)}
<section aria-labelledby="denials"><h2 id="denials">Denials</h2>
<table><caption>${denied.items.length ? `The ${denied.items.length} newest transfer log denials` : 'No denials in the transfer log'} · <a href="/console/transfers?partnerId=${p.id}&amp;decision=denied">search them all</a></caption><thead>${ROW_HEADINGS}</thead><tbody>${denied.items.map(entryRow)}</tbody></table>
<table><caption>Refused before the partner was known (access-denial record of its client ids, last ${DENIAL_DAYS} days): ${access.length ? `${access.length} rows` : 'none'}</caption>
<thead><tr><th scope="col">Day (UTC)</th><th scope="col">Client id</th><th scope="col">Reason</th><th scope="col">Count</th></tr></thead>
<tbody>${access.map((a) => html`<tr><td>${a.day}</td><td><code>${a.clientId}</code></td><td>${a.reason}</td><td>${a.count}</td></tr>`)}</tbody></table></section>
${deliveriesSection(p.id, s, recent, deadOfPartner)}`;
    res.status(status).set('Cache-Control', 'no-store').type('html').send(page(ctx.assets, { title: `Partner ${p.id}`, current: '/console/partners', session: s, body }).text);
  };

  doc.add('GET', '/console/partners/:id', {
    summary: 'console page: one partner — recipients (legal entity, processing countries, sub-processors), JWKS, pseudonym key version, denials (transfer log and access-denial record), notice deliveries and dead letters; for admins, upload a JWKS, rotate the key, retry a dead letter',
    auth: 'console session (admin or auditor)', responses: { 200: 'text/html', 404: 'text/html: no such partner', 303: 'no session: to /console/sign-in' },
  });
  r.get('/partners/:id', anyStaff, async (req, res) => {
    const s = sessionOf(res);
    const p = await partnerOf(pathId(req, 'id', 'partner'));
    await ctx.audit.record(s.staff, 'console.partner.view', p.id);
    await render(res, 200, s, p);
  });

  const forbidden = { 403: 'text/html: an auditor, or a missing CSRF token or foreign Origin' };
  doc.add('POST', '/console/partners/:id/jwks', {
    summary: 'console: register the partner\'s public JWKS (form field jwks: the JSON), as PUT /admin/v1/partners/{id}/jwks; admin only, CSRF token and Origin required',
    auth: 'console session (admin)', responses: { 303: 'to /console/partners/{id}', 400: 'text/html: the form with every validation error', 404: 'text/html: no such partner', ...forbidden },
  });
  r.post('/partners/:id/jwks', admin, async (req, res) => {
    const s = sessionOf(res);
    const p = await partnerOf(pathId(req, 'id', 'partner'));
    const text = typeof req.body?.jwks === 'string' ? req.body.jwks : '';
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return void (await render(res, 400, s, p, { jwks: { text, errors: [{ field: 'jwks', reason: 'is not valid JSON' }] } }));
    }
    try {
      await d.partners.setJwks(actor(s.staff), p.id, parsed);
    } catch (e) {
      if (!(e instanceof Problem) || e.status !== 400) throw e;
      const errors = ((e.extra.errors as FieldError[]) ?? []).map((x) => ({ field: x.field ? `jwks.${x.field}` : 'jwks', reason: x.reason }));
      // A private key typed in by mistake is not sent back into the page.
      const leaked = errors.some((x) => /private key/.test(x.reason));
      return void (await render(res, 400, s, p, { jwks: { text: leaked ? '' : text, errors } }));
    }
    res.redirect(303, `/console/partners/${p.id}`);
  });

  doc.add('POST', '/console/partners/:id/keys/rotate', {
    summary: 'console: start the partner\'s next pseudonym key version, as POST /admin/v1/partners/{id}/keys/rotate (configured grace); admin only',
    auth: 'console session (admin)', responses: { 303: 'to /console/partners/{id}', 404: 'text/html: no such partner', ...forbidden },
  });
  r.post('/partners/:id/keys/rotate', admin, async (req, res) => {
    const s = sessionOf(res);
    const id = pathId(req, 'id', 'partner');
    await d.partnerKeys.rotate(actor(s.staff), id, {});
    res.redirect(303, `/console/partners/${id}`);
  });

  doc.add('POST', '/console/partners/:id/notices/:noticeId/retry', {
    summary: 'console: send a dead letter again, as POST /admin/v1/notices/dead-letter/{partnerId}/{noticeId}/retry; admin only',
    auth: 'console session (admin)', responses: { 303: 'to /console/partners/{id}#deliveries', 404: 'text/html: no such dead letter', ...forbidden },
  });
  r.post('/partners/:id/notices/:noticeId/retry', admin, async (req, res) => {
    const s = sessionOf(res);
    const id = pathId(req, 'id', 'partner');
    if (!(await d.notices.retryDead(actor(s.staff), id, pathId(req, 'noticeId', 'notice')))) {
      throw new ConsolePageError(404, 'That notice is not a dead letter (any more): it may have been retried already.');
    }
    res.redirect(303, `/console/partners/${id}#deliveries`);
  });
}
