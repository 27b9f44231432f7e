// Integrity (issue 16 page 4): run the transfer log's verify and watch its progress, the last
// signed checkpoint per chain and the anchors' status, the gateway's JWKS as a download (the
// partner listener's /.well-known/jwks.json is another origin), and a pasted receipt checked by
// the same function as POST /admin/v1/transfers/receipts/verify. Like the console's other log
// pages, for admins and auditors (transfers.ts); nothing here changes the log. RULES 49: every
// verify run and every receipt check is audited with the staff identity; a failed verify has
// opened an incident (RULES 50), and the page links to it.
import type { Request, Response, Router } from 'express';
import type { ApiDoc } from '../http/openapi.ts';
import { jwksResponse } from '../http/partner-responses.ts';
import { parseBody } from '../http/field-errors.ts';
import { receiptVerifyBody } from '../http/admin-receipts.ts';
import { Problem, type FieldError } from '../http/problem.ts';
import { fromVerify, type Incident, type Incidents } from '../incidents/index.ts';
import type { Jwks, LogStatus, VerifyResult } from '../transfer-log/index.ts';
import { InvalidReceipt, type ReceiptVerdict } from '../transfer-log/receipt-check.ts';
import { html, type Html } from './html.ts';
import { csrfField, page } from './layout.ts';
import { sessionOf } from './console-auth.ts';
import type { ConsolePageContext } from './context.ts';
import type { Session } from './sessions.ts';
import { ConsoleVerifyRuns, type VerifyFn } from './integrity-verify.ts';
import { STATUS_PATH, chainsSection, receiptVerdict, verifyStatus } from './integrity-view.ts';

export interface IntegrityPageDeps {
  verify: VerifyFn;
  status: () => Promise<LogStatus>;
  jwks: Jwks;
  /** checkReceipt with the admin API's dependencies; rejects with InvalidReceipt. */
  verifyReceipt(jws: string, subjects?: readonly string[]): Promise<ReceiptVerdict>;
  incidents: Pick<Incidents, 'list'>;
}

const DOC = 'console session (admin or auditor)';

export function mountIntegrity(r: Router, ctx: ConsolePageContext, doc: ApiDoc, deps: IntegrityPageDeps): void {
  const staff = ctx.auth.requireStaff('admin', 'auditor');
  const runs = new ConsoleVerifyRuns(deps.verify);

  /** The open incident a failed run opened (RULES 50), once recorded. */
  const incidentOf = async (r: VerifyResult | null | undefined): Promise<Incident | null> => {
    const want = r ? fromVerify(r) : null;
    if (!want) return null;
    const open = await deps.incidents.list({ limit: 100, status: 'open' });
    return open.items.find((i) => i.kind === want.kind && i.found === want.found && i.chain === (want.chain ?? null)) ?? null;
  };
  const statusHtml = async () => {
    const st = runs.state();
    return verifyStatus(st, st.running ? null : await incidentOf(st.last?.result));
  };

  const render = async (s: Session, receipt: { verdict?: ReceiptVerdict; errors?: FieldError[] } = {}): Promise<Html> => {
    const err = (f: string) => receipt.errors?.find((e) => e.field === f);
    const field = (f: string) => err(f) ? html` aria-invalid="true" aria-describedby="${f}-error"` : '';
    const msg = (f: string) => err(f) ? html`<small class="field-error" id="${f}-error">${err(f)!.reason}</small>` : '';
    return html`<section aria-labelledby="verify-title"><h2 id="verify-title">Verify the log</h2>
<p>Checks every checkpoint signature and hash chain, the chain registry, the anchors file, and the recipients index.</p>
<form method="post" action="/console/integrity/verify" hx-post="/console/integrity/verify" hx-target="#verify-status" hx-swap="outerHTML">${csrfField(s)}<button type="submit">Run verify</button></form>
${await statusHtml()}</section>
${chainsSection(await deps.status(), runs.state().last?.result)}
<section aria-labelledby="jwks-title"><h2 id="jwks-title">Signing keys</h2>
<p>The public keys (current and retired) that verify checkpoints and receipts, as partners get them from <code>/.well-known/jwks.json</code>.</p>
<p><a href="/console/integrity/jwks.json" download="jwks.json" role="button" class="secondary">Download the JWKS</a></p></section>
<section aria-labelledby="receipt-title"><h2 id="receipt-title">Check a receipt</h2>
<form method="post" action="/console/integrity/receipt#receipt-title" novalidate>${csrfField(s)}
<label>Receipt (the <code>Transfer-Receipt</code> header a partner holds)<textarea name="receipt" rows="4" spellcheck="false"${field('receipt')}></textarea>${msg('receipt')}</label>
<label>Subjects of a page receipt, one per line, in order (optional)<textarea name="subjects" rows="2" spellcheck="false"${field('subjects')}></textarea>${msg('subjects')}</label>
<button type="submit">Check receipt</button></form>
${receipt.verdict ? receiptVerdict(receipt.verdict) : ''}</section>`;
  };
  const send = async (res: Response, status: number, s: Session, receipt?: Parameters<typeof render>[1]) =>
    res.status(status).set('Cache-Control', 'no-store').type('html').send(page(ctx.assets, { title: 'Integrity', current: '/console/integrity', session: s, body: await render(s, receipt) }).text);

  doc.add('GET', '/console/integrity', {
    summary: 'console page: run verify with progress, last checkpoint per chain, anchors (file sink, witness backlog), the JWKS download, a receipt check', auth: DOC,
    responses: { 200: 'text/html', 303: 'no session: to /console/sign-in' },
  });
  r.get('/integrity', staff, async (_req, res) => {
    const s = sessionOf(res);
    await ctx.audit.record(s.staff, 'console.integrity.view', 'transfer-log');
    await send(res, 200, s);
  });

  doc.add('POST', '/console/integrity/verify', {
    summary: 'console: start the transfer log\'s verify (or join the run going on); audited. htmx gets the status fragment, a form post a 303 to the page', auth: `${DOC}; CSRF token and Origin required`,
    responses: { 200: 'text/html: the status fragment (htmx)', 303: 'to /console/integrity', 403: 'text/html: a missing CSRF token or foreign Origin' },
  });
  r.post('/integrity/verify', staff, async (req: Request, res) => {
    const s = sessionOf(res);
    await ctx.audit.logRead(s.staff, res.locals.requestId, 'console.integrity.verify');
    runs.start(s.staff.name, (result) => {
      const outcome = result ? { ok: result.ok, entries: result.entries, chains: result.chains, reason: result.brokenAt?.reason ?? null } : { ok: false, error: 'run_failed' };
      ctx.audit.record(s.staff, 'console.integrity.verify.result', 'transfer-log', outcome)
        .catch((e: unknown) => ctx.log.error({ err: { name: (e as Error)?.name } }, 'console verify result could not be audited'));
    });
    if (!req.headers['hx-request']) return res.redirect(303, '/console/integrity');
    res.set('Cache-Control', 'no-store').type('html').send((await statusHtml()).text);
  });

  doc.add('GET', STATUS_PATH, {
    summary: 'console: the verify status fragment (progress: phase, chains done / total, entries; or the last run\'s result with its incident)', auth: DOC,
    responses: { 200: 'text/html fragment', 303: 'no session: to /console/sign-in' },
  });
  r.get('/integrity/verify/status', staff, async (_req, res) => {
    res.set('Cache-Control', 'no-store').type('html').send((await statusHtml()).text);
  });

  doc.add('GET', '/console/integrity/jwks.json', {
    summary: 'console: the gateway\'s public JWKS (the transfer log\'s, as /.well-known/jwks.json serves it) as a download', auth: DOC,
    responses: { 200: { description: 'the JWKS, as an attachment', json: jwksResponse, jsonType: 'application/jwk-set+json' }, 303: 'no session: to /console/sign-in' },
  });
  r.get('/integrity/jwks.json', staff, (_req, res) => {
    res.set({ 'Content-Type': 'application/jwk-set+json', 'Content-Disposition': 'attachment; filename="jwks.json"', 'Cache-Control': 'no-store' })
      .send(JSON.stringify(deps.jwks));
  });

  doc.add('POST', '/console/integrity/receipt', {
    summary: 'console: check a receipt (form fields receipt, subjects: one per line) with the same check as POST /admin/v1/transfers/receipts/verify; audited', auth: `${DOC}; CSRF token and Origin required`,
    responses: { 200: 'text/html: valid, tampering or trimmed', 400: 'text/html: the form with the bad field marked (not a receipt, not signed by a gateway key, subjects not the receipt\'s)', 403: 'text/html: a missing CSRF token or foreign Origin' },
  });
  r.post('/integrity/receipt', staff, async (req, res) => {
    const s = sessionOf(res);
    const b = (req.body ?? {}) as Record<string, unknown>;
    const lines = typeof b.subjects === 'string' ? b.subjects.split(/\r?\n/).map((l) => l.trim()).filter(Boolean) : [];
    const input = { receipt: typeof b.receipt === 'string' ? b.receipt.trim() : b.receipt, ...(lines.length ? { subjects: lines } : {}) };
    let verdict: ReceiptVerdict;
    try {
      const { receipt, subjects } = parseBody(receiptVerifyBody, input);
      verdict = await deps.verifyReceipt(receipt, subjects);
    } catch (e) {
      const errors = e instanceof InvalidReceipt ? [{ field: /^subjects /.test(e.message) ? 'subjects' : 'receipt', reason: e.message }]
        : e instanceof Problem && e.status === 400 ? (e.extra.errors as FieldError[]) : null;
      if (!errors) throw e;
      return void (await send(res, 400, s, { errors }));
    }
    // Never the receipt (it names a pseudonym): the verdict and where it points.
    const where: Record<string, string> = verdict.ok ? {} : { chain: verdict.chain, seq: String(verdict.seq) };
    await ctx.audit.logRead(s.staff, res.locals.requestId, 'console.integrity.receipt', {}, { ok: String(verdict.ok), tampering: String(verdict.tampering), trimmed: String(verdict.trimmed), ...where });
    await send(res, 200, s, { verdict });
  });
}
