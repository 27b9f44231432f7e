// The staff console (issue 16; RULES 43): mounted at /console on the control-plane listener only.
// Server-rendered pages with htmx, its SSE extension, uPlot and Pico, all served from the installed
// packages; a strict Content-Security-Policy of its own (no inline script or style); sessions in
// Redis; the Origin checked on every POST before anything else.
import { Router, type ErrorRequestHandler } from 'express';
import helmet from 'helmet';
import type { Redis } from '../deps.ts';
import type { Logger } from '../log.ts';
import type { Config } from '../config/schema.ts';
import type { AdminTokens } from '../auth/admin-tokens.ts';
import type { TransferLog } from '../transfer-log/index.ts';
import type { Cursors } from '../http/cursor-param.ts';
import type { ApiDoc } from '../http/openapi.ts';
import { Problem } from '../http/problem.ts';
import { loadAssets } from './assets.ts';
import { createConsoleAuth } from './console-auth.ts';
import { consoleAudit } from './console-audit.ts';
import type { ConsolePageContext } from './context.ts';
import { html } from './html.ts';
import { page } from './layout.ts';
import { mountLive, type LiveOptions } from './live.ts';
import { mountOverview, overviewSource } from './overview.ts';
import { redisSnapshotStore } from './overview-snapshot.ts';
import { ConsolePageError } from './page-error.ts';
import { ConsoleSessions, sessionKey } from './sessions.ts';
import { mountSignIn } from './sign-in.ts';
import { mountOidc } from './oidc.ts';
import { createOidcSignIn } from './oidc-client.ts';
import { OidcFlows } from './oidc-flows.ts';
import { mountTransfers } from './transfers.ts';
import { mountPartners, type PartnersPageDeps } from './partners.ts';
import { mountIntegrity, type IntegrityPageDeps } from './integrity.ts';
import { mountAudit } from './audit.ts';
import { readAudit } from '../auth/admin-audit.ts';
import { mountAgreements, type AgreementsPageDeps } from './agreements.ts';
import { mountJurisdiction, type JurisdictionPageDeps } from './jurisdiction.ts';
import { mountIncidents, type IncidentsPageDeps } from './incidents.ts';
import { mountPartnerDetails, type PartnerDetailsDeps } from './partner-details.ts';

export interface ConsoleDeps {
  redis: Redis;
  log: Logger;
  config: Pick<Config, 'console'>;
  pseudonymMaster: Buffer;
  transferLog: Pick<TransferLog, 'query' | 'subjectRef'>;
  tokens: Pick<AdminTokens, 'verify' | 'verifyHash'>;
  partnerExists: (id: string) => Promise<boolean>;
  partners: PartnersPageDeps['partners'];
  credentials: PartnersPageDeps['credentials'];
  cursors: Cursors;
  /** The integrity page's verify, status, JWKS and receipt check (absent: no integrity page, e.g. a console-only test). */
  integrity?: IntegrityPageDeps;
  /** The Agreements page (absent: not mounted, as in the foundation's standalone test console). */
  agreementsPage?: AgreementsPageDeps;
  /** Jurisdiction, incidents and partner details pages: the services the admin API uses. */
  jurisdiction: JurisdictionPageDeps;
  incidents: IncidentsPageDeps;
  partnerDetails: PartnerDetailsDeps;
  /** Tests: a clock for session timeouts, faster live polling. */
  now?: () => number;
  live?: LiveOptions;
}

// Issue 16: scripts and styles from our own origin only; nothing inline, nothing framed.
const CSP = helmet.contentSecurityPolicy({
  useDefaults: false,
  directives: {
    defaultSrc: ["'self'"], scriptSrc: ["'self'"], styleSrc: ["'self'"], imgSrc: ["'self'", 'data:'], fontSrc: ["'self'"],
    connectSrc: ["'self'"], objectSrc: ["'none'"], baseUri: ["'none'"], formAction: ["'self'"], frameAncestors: ["'none'"],
  },
});

// Helmet's no-referrer makes a browser send `Origin: null` on a form POST; same-origin keeps our
// own Origin on our own requests (the CSRF check needs it) and still sends nothing to other sites.
const REFERRER = helmet.referrerPolicy({ policy: 'same-origin' });

export function consoleRouter(deps: ConsoleDeps, doc: ApiDoc): Router {
  const r = Router();
  const assets = loadAssets();
  const c = deps.config.console;
  const sessions = new ConsoleSessions(deps.redis, sessionKey(deps.pseudonymMaster), {
    idleMs: c.session.idleMinutes * 60_000, absoluteMs: c.session.absoluteHours * 3_600_000,
  }, deps.now);
  const auth = createConsoleAuth({ sessions, tokens: deps.tokens, origin: c.origin });
  const audit = consoleAudit({ redis: deps.redis, log: deps.log, subjectRef: (u) => deps.transferLog.subjectRef(u), partnerExists: deps.partnerExists });
  const ctx: ConsolePageContext = { assets, auth, audit, transferLog: deps.transferLog, cursors: deps.cursors, log: deps.log };

  r.use(CSP);
  r.use(REFERRER);
  r.use(auth.checkOrigin);

  doc.add('GET', '/console/assets/:name', {
    summary: 'console assets (htmx, its SSE extension, Pico, uPlot, console.js/css) from the installed packages; versioned names, cached as immutable', auth: 'public',
    responses: { 200: { description: 'the asset', media: ['text/javascript', 'text/css'] }, 404: 'text/html: no such asset' },
  });
  r.get('/assets/:name', (req, res, next) => {
    const a = assets.byName.get(String(req.params.name));
    if (!a) return next(new ConsolePageError(404, 'No such asset.'));
    res.set({ 'Content-Type': a.type, 'Cache-Control': 'public, max-age=31536000, immutable' }).send(a.body);
  });

  doc.add('GET', '/console/', { summary: 'console: to the overview (or sign-in)', auth: 'public', responses: { 303: 'to /console/overview' } });
  r.get('/', (_req, res) => res.redirect(303, '/console/overview'));

  const stats = overviewSource(deps.transferLog.query, {
    budgetMs: c.overview.budgetMs, snapshotEveryMs: c.overview.snapshotSeconds * 1000, snapshot: redisSnapshotStore(deps.redis),
    onSnapshotError: (err) => deps.log.warn({ err: err instanceof Error ? err.name : 'error' }, 'console overview snapshot not written'),
    ...(deps.now ? { now: deps.now } : {}),
  });
  // A sign-in starts the overview's first read of the week, so the page it lands on waits less.
  const warm = () => void stats().catch(() => undefined);
  mountSignIn(r, ctx, doc, { tokens: deps.tokens, sessions, tokenLogin: c.tokenLogin, sso: c.oidc.issuer ? c.oidc.name : null, onSignIn: warm });
  if (c.oidc.issuer) mountOidc(r, ctx, doc, { signIn: createOidcSignIn(c.oidc), flows: new OidcFlows(deps.redis), sessions, policy: c.oidc, onSignIn: warm });
  mountOverview(r, ctx, doc, stats);
  mountLive(r, ctx, doc, deps.live);
  mountTransfers(r, ctx, doc);
  mountPartners(r, ctx, doc, { partners: deps.partners, credentials: deps.credentials });
  if (deps.integrity) mountIntegrity(r, ctx, doc, deps.integrity);
  mountAudit(r, ctx, doc, { read: (limit, cursor) => readAudit(deps.redis, limit, cursor) });
  if (deps.agreementsPage) mountAgreements(r, ctx, doc, deps.agreementsPage);
  mountPartnerDetails(r, ctx, doc, deps.partnerDetails, deps.now);
  mountJurisdiction(r, ctx, doc, deps.jurisdiction, deps.now);
  mountIncidents(r, ctx, doc, deps.incidents, deps.now);
  r.use(errorPage(ctx));
  return r;
}

/** Refusals and bad requests as a page; anything else (5xx) goes on to the app's problem+json handler. */
function errorPage(ctx: ConsolePageContext): ErrorRequestHandler {
  return (err, _req, res, next) => {
    const known = err instanceof ConsolePageError || (err instanceof Problem && err.status < 500);
    if (!known || res.headersSent) return next(err);
    const status = (err as ConsolePageError | Problem).status;
    const message = err instanceof ConsolePageError ? err.message : status === 404 ? 'There is nothing by that id.' : 'This request is not valid.';
    const title = status === 403 ? 'Refused' : status === 404 ? 'Not found' : 'Not valid';
    const body = html`<p role="alert">${message}</p><p><a href="/console/overview">Back to the console</a></p>`;
    res.status(status).set('Cache-Control', 'no-store').type('html').send(page(ctx.assets, { title, body }).text);
  };
}
