// Partners (issue 16 page 5, first part): the registry, registering a partner with its validation
// errors shown next to each field, issuing a client credential (the secret shown once, on a
// no-store page) and revoking one. Only admins get the forms; an auditor sees the list, and any
// write from an auditor's session is refused by requireStaff('admin') (issue 16). Every change is
// written by the same services as the admin API, with the staff identity as the actor, so it lands
// in the admin audit in the same Lua script as the change.
import type { Response, Router } from 'express';
import type { Partners } from '../agreements/partners.ts';
import type { Credentials } from '../agreements/credentials.ts';
import type { Actor } from '../auth/roles.ts';
import type { ApiDoc } from '../http/openapi.ts';
import { pathId } from '../http/path-ids.ts';
import { Problem, type FieldError } from '../http/problem.ts';
import { html, type Html } from './html.ts';
import { csrfField, page } from './layout.ts';
import { sessionOf } from './console-auth.ts';
import type { ConsolePageContext } from './context.ts';
import type { Session, Staff } from './sessions.ts';

export interface PartnersPageDeps {
  partners: Pick<Partners, 'list' | 'create'>;
  credentials: Pick<Credentials, 'issue' | 'revoke'>;
}

const actor = (s: Staff): Actor => ({ tokenId: s.id, role: s.role });
const FIELDS = [['id', 'Partner id (optional)', 'text'], ['name', 'Name', 'text'], ['contactEmail', 'Privacy contact e-mail', 'email']] as const;

function createForm(s: Session, values: Record<string, string> = {}, errors: FieldError[] = []): Html {
  const err = (f: string) => errors.find((e) => e.field === f);
  return html`<section aria-labelledby="new-partner"><h2 id="new-partner">Register a partner</h2>
<form method="post" action="/console/partners" novalidate>${csrfField(s)}
<div class="grid">${FIELDS.map(([f, label, type]) => html`<label>${label}<input name="${f}" type="${type}" value="${values[f] ?? ''}"${err(f) ? html` aria-invalid="true" aria-describedby="${f}-error"` : ''}>${err(f) ? html`<small class="field-error" id="${f}-error">${err(f)!.reason}</small>` : ''}</label>`)}</div>
${errors.filter((e) => !FIELDS.some(([f]) => f === e.field)).map((e) => html`<p class="field-error" role="alert">${e.field}: ${e.reason}</p>`)}
<button type="submit">Register partner</button>
</form></section>`;
}

export function mountPartners(r: Router, ctx: ConsolePageContext, doc: ApiDoc, deps: PartnersPageDeps): void {
  const anyStaff = ctx.auth.requireStaff('admin', 'auditor');
  const admin = ctx.auth.requireStaff('admin');

  const render = async (s: Session, extra: { values?: Record<string, string>; errors?: FieldError[]; notice?: Html } = {}) => {
    const list = await deps.partners.list();
    const isAdmin = s.staff.role === 'admin';
    const rows = list.map((p) => html`<tr><th scope="row"><a href="/console/partners/${p.id}">${p.id}</a></th><td>${p.name}</td><td>${p.contactEmail}</td><td>${p.createdAt.slice(0, 10)}</td>
<td>${p.clientIds.length ? html`<ul>${p.clientIds.map((c) => html`<li><code>${c}</code>${isAdmin ? html` <form method="post" action="/console/partners/${p.id}/credentials/${c}/revoke" data-confirm="Revoke ${c}? Its access tokens stop working at once.">${csrfField(s)}<button type="submit" class="secondary outline">Revoke</button></form>` : ''}</li>`)}</ul>` : html`<span class="muted">none</span>`}
${isAdmin ? html`<form method="post" action="/console/partners/${p.id}/credentials">${csrfField(s)}<button type="submit">Issue credential</button></form>` : ''}</td></tr>`);
    return html`${extra.notice ?? ''}
<table><caption>Registered partners: ${list.length}</caption><thead><tr><th scope="col">Id</th><th scope="col">Name</th><th scope="col">Contact</th><th scope="col">Registered</th><th scope="col">Credentials</th></tr></thead>
<tbody>${rows}</tbody></table>
${isAdmin ? createForm(s, extra.values, extra.errors) : html`<p class="muted">You are signed in as an auditor: partners are read-only for you.</p>`}`;
  };
  const send = (res: Response, status: number, s: Session, body: Html) =>
    res.status(status).set('Cache-Control', 'no-store').type('html').send(page(ctx.assets, { title: 'Partners', current: '/console/partners', session: s, body }).text);

  doc.add('GET', '/console/partners', { summary: 'console page: partners and their credentials; for admins, forms to register, issue and revoke', auth: 'console session (admin or auditor)', responses: { 200: 'text/html', 303: 'no session: to /console/sign-in' } });
  r.get('/partners', anyStaff, async (_req, res) => {
    const s = sessionOf(res);
    await ctx.audit.record(s.staff, 'console.partners.view', 'partners');
    send(res, 200, s, await render(s));
  });

  doc.add('POST', '/console/partners', {
    summary: 'console: register a partner (form fields id?, name, contactEmail); admin only, CSRF token and Origin required', auth: 'console session (admin)',
    responses: { 303: 'registered: to /console/partners', 400: 'text/html: the form with each bad field marked', 403: 'text/html: an auditor, or a missing CSRF token or foreign Origin', 409: 'text/html: the id exists' },
  });
  r.post('/partners', admin, async (req, res) => {
    const s = sessionOf(res);
    const b = (req.body ?? {}) as Record<string, unknown>;
    const values = Object.fromEntries(FIELDS.map(([f]) => [f, typeof b[f] === 'string' ? (b[f] as string).trim() : ''])) as Record<string, string>;
    const input = { ...(values.id ? { id: values.id } : {}), name: values.name, contactEmail: values.contactEmail };
    try {
      await deps.partners.create(actor(s.staff), input);
    } catch (e) {
      if (!(e instanceof Problem) || (e.status !== 400 && e.status !== 409)) throw e;
      const errors = e.status === 409 ? [{ field: 'id', reason: 'a partner with this id exists' }] : (e.extra.errors as FieldError[]);
      return void send(res, e.status, s, await render(s, { values, errors }));
    }
    res.redirect(303, '/console/partners');
  });

  doc.add('POST', '/console/partners/:id/credentials', {
    summary: 'console: issue a client credential; the page shows the secret once and is not stored anywhere; admin only, CSRF token and Origin required', auth: 'console session (admin)',
    responses: { 201: 'text/html: the client id and secret', 403: 'text/html: an auditor, or a missing CSRF token or foreign Origin', 404: 'text/html: no such partner' },
  });
  r.post('/partners/:id/credentials', admin, async (req, res) => {
    const s = sessionOf(res);
    const id = pathId(req, 'id', 'partner');
    const c = await deps.credentials.issue(actor(s.staff), id, {});
    const notice = html`<article aria-labelledby="secret-title"><h2 id="secret-title">New credential for ${id}</h2>
<p>Copy the secret now: it is shown on this page only and cannot be shown again.</p>
<dl><dt>Client id</dt><dd><code>${c.clientId}</code></dd><dt>Client secret</dt><dd><code class="secret" id="client-secret">${c.clientSecret}</code></dd></dl></article>`;
    send(res, 201, s, await render(s, { notice }));
  });

  doc.add('POST', '/console/partners/:id/credentials/:clientId/revoke', {
    summary: 'console: revoke a credential and every access token issued with it; admin only, CSRF token and Origin required', auth: 'console session (admin)',
    responses: { 303: 'revoked: to /console/partners', 403: 'text/html: an auditor, or a missing CSRF token or foreign Origin', 404: 'text/html: no such credential' },
  });
  r.post('/partners/:id/credentials/:clientId/revoke', admin, async (req, res) => {
    const s = sessionOf(res);
    await deps.credentials.revoke(actor(s.staff), pathId(req, 'id', 'partner'), pathId(req, 'clientId', 'credential'));
    res.redirect(303, '/console/partners');
  });
}
