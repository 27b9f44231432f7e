// Agreements (issue 16 page 6): every partner's agreement with its versions, the version each
// running instance enforces, a side-by-side diff of any two versions, and — for admins — the
// versioned editor, suspend/resume/terminate with a confirmation and the second-admin review of a
// pending version (RULES 19; agreement-actions.ts). Auditors read everything and get no control;
// their writes are refused by requireStaff('admin'). Every change goes through the same Agreements
// service as the admin API, with the staff identity as the actor, so it is validated the same way
// and lands in the admin audit in the same script as the change.
import type { Response, Router } from 'express';
import type { Agreements, AgreementVersion } from '../agreements/agreement-store.ts';
import type { Partners } from '../agreements/partners.ts';
import type { InstanceRecord } from '../agreements/instance-heartbeat.ts';
import type { ApiDoc } from '../http/openapi.ts';
import { pathId } from '../http/path-ids.ts';
import { Problem, type FieldError } from '../http/problem.ts';
import { html, type Html } from './html.ts';
import { page } from './layout.ts';
import { sessionOf } from './console-auth.ts';
import type { ConsolePageContext } from './context.ts';
import type { Session } from './sessions.ts';
import { ConsolePageError } from './page-error.ts';
import { agreementEditor } from './agreement-form.ts';
import { blankForm, formToBody, formValuesOf, versionToForm, type FormValues } from './agreement-form-values.ts';
import { diffTable } from './agreement-diff.ts';
import { instancesForAgreement, instancesSummary, type InForce } from './agreement-instances.ts';
import { mountAgreementActions, actionsBlock, reviewBlock, staffActor } from './agreement-actions.ts';

export interface AgreementsPageDeps {
  agreements: Pick<Agreements, 'create' | 'transition' | 'approve' | 'reject' | 'list' | 'current'>;
  partners: Pick<Partners, 'list' | 'exists'>;
  /** The instances that beat within their TTL (agreements/instance-heartbeat.ts listInstances). */
  instances: () => Promise<InstanceRecord[]>;
  policyVersions: readonly string[];
}

const inForceOf = (a: AgreementVersion | undefined): InForce | undefined => (a ? { version: a.version, status: a.status } : undefined);
const VERSION = /^[1-9]\d{0,8}$/;

export function mountAgreements(r: Router, ctx: ConsolePageContext, doc: ApiDoc, deps: AgreementsPageDeps): void {
  const anyStaff = ctx.auth.requireStaff('admin', 'auditor');
  const admin = ctx.auth.requireStaff('admin');
  const send = (res: Response, status: number, s: Session, title: string, body: Html) =>
    res.status(status).set('Cache-Control', 'no-store').type('html').send(page(ctx.assets, { title, current: '/console/agreements', session: s, body }).text);
  const partnerOf = async (req: Parameters<typeof pathId>[0]) => {
    const id = pathId(req, 'partnerId', 'partner');
    if (!(await deps.partners.exists(id))) throw new ConsolePageError(404, 'There is no partner by that id.');
    return id;
  };

  doc.add('GET', '/console/agreements', { summary: 'console page: every partner\'s agreement (version and status in force, pending review) and the running instances, each flagged when it lags', auth: 'console session (admin or auditor)', responses: { 200: 'text/html', 303: 'no session: to /console/sign-in' } });
  r.get('/agreements', anyStaff, async (_req, res) => {
    const s = sessionOf(res);
    const [list, instances] = await Promise.all([deps.partners.list(), deps.instances()]);
    const versions = await Promise.all(list.map(async (p) => ({ p, all: await deps.agreements.list(p.id), cur: (await deps.agreements.current(p.id)).agreement })));
    const inForce = new Map(versions.map((v) => [v.p.id, inForceOf(v.cur)]));
    await ctx.audit.record(s.staff, 'console.agreements.view', 'agreements');
    const body = html`<table><caption>Agreements by partner: ${list.length}</caption>
<thead><tr><th scope="col">Partner</th><th scope="col">Agreement</th><th scope="col">In force</th><th scope="col">Pending review</th><th scope="col">Versions</th></tr></thead>
<tbody>${versions.map(({ p, all, cur }) => { const pend = all.find((a) => a.status === 'pending_review'); return html`<tr><th scope="row"><a href="/console/agreements/${p.id}">${p.id}</a> <small class="muted">${p.name}</small></th>
<td><code>agr_${p.id}</code></td><td>${cur ? `v${cur.version} ${cur.status}` : 'none'}</td><td>${pend ? html`<strong>v${pend.version}</strong>` : '—'}</td><td>${all.length}</td></tr>`; })}</tbody></table>
<h2>Which version each instance enforces</h2>${instancesSummary(instances, inForce)}`;
    send(res, 200, s, 'Agreements', body);
  });

  const partnerPage = async (res: Response, s: Session, partnerId: string, editor: { values?: FormValues; errors?: FieldError[]; status?: number } = {}, extra: Html | string = '') => {
    const [all, instances] = await Promise.all([deps.agreements.list(partnerId), deps.instances()]);
    const cur = (await deps.agreements.current(partnerId)).agreement;
    const pending = all.find((a) => a.status === 'pending_review');
    const isAdmin = s.staff.role === 'admin';
    const last = all[all.length - 1];
    const start = editor.values ?? (cur ?? last ? versionToForm((cur ?? last)!) : blankForm(deps.policyVersions));
    const canEdit = isAdmin && cur?.status !== 'terminated';
    const body = html`${extra}
<p>In force: <strong>${cur ? `version ${cur.version}, ${cur.status}` : 'no version yet'}</strong>${cur ? html` · valid ${cur.validFrom} to ${cur.validUntil} · countries ${cur.processingCountries.join(', ')}` : ''}</p>
${pending ? reviewBlock(s, partnerId, pending) : ''}
${isAdmin && cur ? actionsBlock(partnerId, cur) : ''}
<h2>Which version each instance enforces</h2>${instancesForAgreement(instances, partnerId, inForceOf(cur))}
<h2>Versions</h2>${versionsTable(all)}
${all.length >= 2 ? compareForm(partnerId, all) : ''}
${canEdit ? html`<h2 id="editor">${cur || last ? 'New version' : 'First agreement'}</h2>
<p class="muted">Saving adds a new version that supersedes the one in force${cur ? '; one that adds a processing country or a sub-processor waits for another admin\'s approval (RULES 19)' : ''}.</p>
${agreementEditor(s, { action: `/console/agreements/${partnerId}/versions`, values: start, errors: editor.errors ?? [], policyVersions: deps.policyVersions, submitLabel: cur || last ? 'Save new version' : 'Create agreement' })}`
    : isAdmin ? html`<p>This agreement is terminated; termination is final.</p>` : html`<p class="muted">You are signed in as an auditor: agreements are read-only for you.</p>`}`;
    send(res, editor.status ?? 200, s, `Agreement agr_${partnerId}`, body);
  };

  doc.add('GET', '/console/agreements/:partnerId', { summary: 'console page: one partner\'s agreement: versions, pending review, the version each instance enforces, a compare form; for admins the editor and the status actions', auth: 'console session (admin or auditor)', responses: { 200: 'text/html', 303: 'no session: to /console/sign-in', 400: 'text/html: a malformed partner id', 404: 'text/html: no such partner' } });
  r.get('/agreements/:partnerId', anyStaff, async (req, res) => {
    const s = sessionOf(res);
    const id = await partnerOf(req);
    await ctx.audit.record(s.staff, 'console.agreements.view', `agr_${id}`);
    await partnerPage(res, s, id);
  });

  doc.add('GET', '/console/agreements/:partnerId/diff', { summary: 'console page: two versions (query a, b: version numbers) side by side, one row per field, changed rows marked', auth: 'console session (admin or auditor)', responses: { 200: 'text/html', 400: 'text/html: a or b is not a version number', 404: 'text/html: no such partner or version', 303: 'no session: to /console/sign-in' } });
  r.get('/agreements/:partnerId/diff', anyStaff, async (req, res) => {
    const s = sessionOf(res);
    const id = await partnerOf(req);
    const [a, b] = [req.query.a, req.query.b].map((v) => (typeof v === 'string' && VERSION.test(v) ? Number(v) : NaN));
    if (Number.isNaN(a) || Number.isNaN(b)) throw new ConsolePageError(400, 'Choose two version numbers to compare.');
    const all = await deps.agreements.list(id);
    const va = all.find((v) => v.version === a), vb = all.find((v) => v.version === b);
    if (!va || !vb) throw new ConsolePageError(404, 'This agreement has no such version.');
    await ctx.audit.record(s.staff, 'console.agreements.diff', `agr_${id}`, { a, b });
    send(res, 200, s, `Agreement agr_${id}: v${a} against v${b}`, html`<p><a href="/console/agreements/${id}">Back to agr_${id}</a></p>${compareForm(id, all, a, b)}${diffTable(va, vb)}`);
  });

  doc.add('POST', '/console/agreements/:partnerId/versions', {
    summary: 'console: add an agreement version from the editor (fields named by the admin API body\'s paths, e.g. purposes.advertising.categories.email); the body goes to the same service and validation as POST /admin/v1/partners/{id}/agreements; admin only, CSRF token and Origin required', auth: 'console session (admin)',
    responses: { 303: 'saved: to the agreement page', 400: 'text/html: the editor with each bad field marked next to its input', 403: 'text/html: an auditor, or a missing CSRF token or foreign Origin', 404: 'text/html: no such partner', 409: 'text/html: the agreement is terminated or changing' },
  });
  r.post('/agreements/:partnerId/versions', admin, async (req, res) => {
    const s = sessionOf(res);
    const id = await partnerOf(req);
    const values = formValuesOf(req.body);
    try {
      await deps.agreements.create(staffActor(s), id, formToBody(values));
    } catch (e) {
      if (!(e instanceof Problem) || (e.status !== 400 && e.status !== 409)) throw e;
      const errors = e.status === 400 && Array.isArray(e.extra.errors) ? (e.extra.errors as FieldError[]) : [];
      const notice = e.status === 409 ? html`<p class="field-error" role="alert">${e.message}</p>` : '';
      return void (await partnerPage(res, s, id, { values, errors, status: e.status }, notice));
    }
    res.redirect(303, `/console/agreements/${id}`);
  });

  mountAgreementActions(r, ctx, doc, { agreements: deps.agreements, partnerOf, send });
}

function versionsTable(all: readonly AgreementVersion[]): Html {
  if (!all.length) return html`<p class="muted">No version yet.</p>`;
  return html`<table><caption>${all.length} ${all.length === 1 ? 'version' : 'versions'}, newest first</caption>
<thead><tr><th scope="col">Version</th><th scope="col">Status</th><th scope="col">Created</th><th scope="col">By</th><th scope="col">Approved by</th><th scope="col">Purposes</th></tr></thead>
<tbody>${[...all].reverse().map((a) => html`<tr><th scope="row">v${a.version}</th><td>${a.status}</td><td>${a.createdAt}</td><td>${a.createdBy ?? '—'}</td><td>${a.review?.approvedBy ?? '—'}</td><td>${Object.keys(a.purposes).join(', ')}</td></tr>`)}</tbody></table>`;
}

function compareForm(partnerId: string, all: readonly AgreementVersion[], a?: number, b?: number): Html {
  const [da, db] = [a ?? all[all.length - 2]!.version, b ?? all[all.length - 1]!.version];
  const sel = (name: string, label: string, cur: number) => html`<label>${label}<select name="${name}">${all.map((v) => html`<option value="${v.version}"${v.version === cur ? html` selected` : ''}>v${v.version} (${v.status})</option>`)}</select></label>`;
  return html`<form method="get" action="/console/agreements/${partnerId}/diff" class="filters" aria-label="Compare two versions">${sel('a', 'Compare version', da)}${sel('b', 'with version', db)}<button type="submit">Compare</button></form>`;
}
