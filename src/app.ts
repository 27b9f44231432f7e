// The two HTTP applications (RULES 43, CONTRACT 11 [1/6]): the partner app (/oauth/token, /v1/*,
// /.well-known/*, /healthz, /readyz) and the control-plane app (/admin/*, /metrics, /healthz,
// /readyz), each with its own OpenAPI document. One middleware setup for both; no I/O of their own.
import express, { type Express, type Request, type Response } from 'express';
import { requestIds } from './http/request-id.ts';
import { securityHeaders } from './http/security-headers.ts';
import { httpObserver } from './http/http-metrics.ts';
import { errorHandler, notFound } from './http/errors.ts';
import { documentedOnly } from './http/route-gate.ts';
import { opsRouter } from './http/ops.ts';
import { ApiDoc, type Listener } from './http/openapi.ts';
import type { Deps } from './deps.ts';
import { createAdminServices, type AdminServices } from './agreements/admin-services.ts';
import { createAdminAuth } from './auth/admin-auth.ts';
import { adminTokensRouter } from './http/admin-tokens.ts';
import { adminPartnersRouter } from './http/admin-partners.ts';
import { adminAgreementsRouter } from './http/admin-agreements.ts';
import { adminKeysRouter } from './http/admin-keys.ts';
import { adminJurisdictionRouter } from './http/admin-jurisdiction.ts';
import { adminTransfersRouter } from './http/admin-transfers.ts';
import { adminReidentificationRouter } from './http/admin-reidentification.ts';
import { Reidentifications } from './reidentification/requests.ts';
import { adminReceiptsRouter } from './http/admin-receipts.ts';
import { adminAccessDenialsRouter } from './http/admin-access-denials.ts';
import { adminIncidentsRouter } from './http/admin-incidents.ts';
import { checkReceipt } from './transfer-log/receipt-check.ts';
import { metricsRouter } from './http/metrics-route.ts';
import { wellKnownRouter } from './http/well-known.ts';
import { PartnerTokens } from './auth/partner-tokens.ts';
import { createPartnerAuth } from './auth/partner-auth.ts';
import { oauthRouter } from './http/oauth.ts';
import { partnerRouter } from './http/partner.ts';
import { partnerRateLimit } from './http/rate-limit.ts';
import { adminEventsRouter } from './http/admin-events.ts';
import { partnerNotificationsRouter } from './http/partner-notifications.ts';
import { createPullServices, type PullServices } from './transfers/services.ts';
import { CursorCodec, cursorKey } from './cursors/codec.ts';
import { RedisSubjectQuota } from './transfers/subject-quota.ts';
import { JoseSealer } from './transfers/jose-response.ts';
import { receiptSigner } from './transfer-log/receipt.ts';
import { boundBodyDepth } from './http/body-depth.ts';
import { logBindingDenial } from './transfers/binding-denial.ts';
import { tlsEvidence } from './tls/evidence.ts';
import { consoleRouter } from './console/router.ts';
import { listInstances } from './agreements/instance-heartbeat.ts';

/** What both planes share, built once per process (partners are read by both; events pseudonymise). */
export interface Planes {
  admin: AdminServices;
  svc: PullServices;
  /** Partner access tokens: authentication on the partner listener, and each stream's re-check (DESIGN 8). */
  partnerTokens: PartnerTokens;
  /**
   * DESIGN 9, RULES 42: one codec seals every cursor handed out (bulk, notifications, transfers,
   * audit, jurisdiction), each bound to its kind and caller, expiring after limits.cursorTtlSeconds.
   */
  cursors: CursorCodec;
}

export function createPlanes(deps: Deps): Planes {
  const partnerTokens = new PartnerTokens(deps.redis, undefined, deps.config.redis.commandTimeoutMs, deps.partnerTokenCache);
  // Control plane services (CONTRACT 5); the partner plane reads partners from them too.
  const admin = createAdminServices(deps);
  return {
    partnerTokens,
    cursors: new CursorCodec(cursorKey(deps.keys.pseudonymMaster), { ttlSeconds: deps.config.limits.cursorTtlSeconds }),
    admin,
    svc: createPullServices({
      partners: admin.partners, // RULES 48: entries name the partner's legal entity
      incidents: deps.incidents, // RULES 50: an egress-guard hit opens an incident
      config: deps.config, agreements: deps.agreements, upstream: deps.upstream, transferLog: deps.transferLog,
      pseudonymMaster: deps.keys.pseudonymMaster, metrics: deps.metrics,
      canaries: deps.config.egressGuard.canaries, // RULES 9: the seeded canaries from configuration
      deletions: deps.notices, // RULES 23: each release schedules its retention_expired notice
      tokens: partnerTokens, // DESIGN 8: a stream re-checks its token before each page
      quota: new RedisSubjectQuota(deps.redis, deps.config.redis.commandTimeoutMs), // RULES 6, 44
      receipts: receiptSigner(deps.keys.signingJwk), // issue 15 item 4: signed by the key /.well-known/jwks.json publishes
      // RULES 29: current and still-accepted pseudonym key versions; throws 503 while not loaded (fail closed).
      keyVersions: (p) => deps.partnerKeys.versions(p),
      // RULES 17, 20: the governed adequacy list and kill-switch; throws 503 while not loaded (fail closed).
      jurisdiction: () => deps.jurisdiction.current(),
    }),
  };
}

/** Middleware both listeners share: request ids, metrics, helmet, body parsers, ops routes. */
function baseApp(deps: Deps, doc: ApiDoc): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false); // RULES 39: no forwarded identity from outside
  app.set('query parser', 'simple'); // no nested objects from query strings
  // No ETag: answers carry personal data and are never cached (no-store), and hashing every body
  // cost CPU on the partner read path.
  app.set('etag', false);
  // Request ids, the request's log line and the HTTP metrics share one 'finish' listener.
  app.use(requestIds(deps.log, httpObserver(deps.metrics)));
  // RULES 37: HSTS two years with subdomains, and helmet's other defaults: computed once at start.
  app.use(securityHeaders());
  // RULES 46: an operation the listener's document does not list is 404 before any parser or guard.
  app.use(documentedOnly(doc));
  // Bodies are parsed only where a method carries one: the partner read path (GET) skips the
  // parsers entirely (they showed up in the bench profile).
  const json = express.json({ limit: deps.config.server.bodyLimitBytes, strict: true });
  const form = express.urlencoded({ limit: deps.config.server.bodyLimitBytes, extended: false });
  const hasBody = (m: string) => m !== 'GET' && m !== 'HEAD';
  app.use((req, res, next) => (hasBody(req.method) ? json(req, res, next) : next()));
  app.use((req, res, next) => (hasBody(req.method) ? form(req, res, next) : next()));
  app.use(boundBodyDepth);
  app.use(opsRouter(deps, doc));
  return app;
}

function finish(app: Express, deps: Deps): Express {
  // Anything not mounted on this listener (e.g. /admin/* on the partner one) is 404 not_found.
  app.use(notFound);
  app.use(errorHandler(deps.log));
  return app;
}

/** The partner listener (CONTRACT 4): tokens, data calls decided by the pull use cases, notices. */
export function createPartnerApp(deps: Deps, planes: Planes = createPlanes(deps)): Express {
  const doc = new ApiDoc('partner');
  const app = baseApp(deps, doc);
  const { admin, svc, partnerTokens, cursors } = planes;
  // RULES 38: with server.tls.requestClientCert every partner route requires a token bound to this connection.
  const bindingRequired = deps.config.server.tls.requestClientCert;
  // RULES 48: refusals before the partner is known go to the access-denial record.
  const denials = deps.accessDenials;
  const onRefused = (req: Request, res: Response, reason: 'missing_token' | 'bad_token') =>
    denials.refused({ reason, client: null, remoteAddress: req.socket.remoteAddress, requestId: String(res.locals.requestId) });
  const requirePartner = createPartnerAuth(partnerTokens, { bindingRequired, onRefused });
  // Data routes log a binding refusal in the transfer log too (CONTRACT 6: each denial is logged).
  const requirePartnerLogged = createPartnerAuth(partnerTokens, {
    bindingRequired, onRefused,
    onBindingRefused: async (req, res, token) => logBindingDenial(svc, {
      partnerId: token.partnerId, token, purpose: typeof req.query.purpose === 'string' ? req.query.purpose : '',
      tls: tlsEvidence(req.socket), requestId: String(res.locals.requestId), bindingRequired, legalEntity: await svc.legalEntity(token.partnerId),
    }),
  });
  app.use(oauthRouter({
    redis: deps.redis, admin, agreements: deps.agreements, tokens: partnerTokens,
    tokenEndpoint: () => `${deps.publicUrl()}/oauth/token`, refused: (ev) => denials.refused(ev),
  }, doc));
  app.use(partnerRouter({
    svc, requirePartner: requirePartnerLogged, cursors,
    rateLimit: partnerRateLimit(deps.redis, deps.agreements, {
      timeoutMs: deps.config.redis.commandTimeoutMs,
      leasePercent: deps.config.limits.rateLimitLeasePercent, // issue 17 item 3: fewer Redis calls per request
      onLimited: (req, clientId, requestId) => denials.refused({ reason: 'rate_limited', client: clientId, remoteAddress: req.socket.remoteAddress, requestId }),
    }),
    partners: admin.partners, sealer: new JoseSealer(deps.keys.signingJwk),
  }, doc));
  app.use(wellKnownRouter(() => deps.transferLog.jwks, doc));
  // Notices (CONTRACT 4; RULES 12, 23): partners pull them or get them pushed.
  app.use(partnerNotificationsRouter({ notices: deps.notices, requirePartner, cursors }, doc));
  return finish(app, deps);
}

/** The control-plane listener (CONTRACT 5, RULES 43): every route declares its role with auth.requireRole. */
export function createAdminApp(deps: Deps, planes: Planes = createPlanes(deps)): Express {
  const doc = new ApiDoc('admin');
  const app = baseApp(deps, doc);
  const { admin, svc, cursors } = planes;
  const auth = createAdminAuth(admin.tokens);
  app.use(metricsRouter(deps.cluster?.metrics ?? deps.metrics.registry, auth, doc));
  app.use(adminTokensRouter(admin, auth, doc, cursors));
  app.use(adminPartnersRouter(admin, auth, doc));
  app.use(adminAgreementsRouter(admin, auth, doc, deps.config.policy.versions.map((v) => v.version)));
  app.use(adminKeysRouter({
    partnerKeys: deps.partnerKeys, partnerExists: (id) => admin.partners.exists(id), graceSeconds: deps.config.pseudonym.rotationGraceSeconds,
    keyCompromised: async (partnerId) => (await deps.incidents.open({ kind: 'key_compromise', found: 'pseudonym_key_compromised', partnerId })).id,
  }, auth, doc));
  app.use(adminJurisdictionRouter(deps.jurisdiction, auth, doc, cursors));
  app.use(adminTransfersRouter({ transferLog: deps.transferLog, log: deps.log, cursors, partnerExists: (id) => admin.partners.exists(id) }, auth, doc));
  app.use(adminAccessDenialsRouter({
    accessDenials: deps.accessDenials, log: deps.log, cursors,
    clientExists: async (clientId) => (await admin.credentials.partnerOf(clientId)) !== undefined,
  }, auth, doc));
  // RULES 50: the breach clock's incidents.
  app.use(adminIncidentsRouter({ incidents: deps.incidents, log: deps.log, cursors }, auth, doc));
  // Issue 15 item 4: receipts against the log, with the keys the gateway publishes (current and retired).
  const tlog = deps.transferLog;
  const subjectRefOf = (subject: string, partnerId: string, keyVersion: number) => {
    const user = svc.pseudonyms.decode(subject, partnerId, [keyVersion]);
    return user ? tlog.subjectRef(user.userId) : null;
  };
  // RULES 27: the only reverse lookup for a human, under two admins; partner pulls decode internally.
  const reidentifications = new Reidentifications(deps.redis, deps.config.reidentification.requestTtlSeconds, {
    userIdOf: (subject, partnerId) => svc.pseudonyms.decode(subject, partnerId, svc.keyVersions(partnerId).accepted)?.userId ?? null,
    subjectRef: (userId) => tlog.subjectRef(userId),
  });
  app.use(adminReidentificationRouter({ reidentifications, partnerExists: (id) => admin.partners.exists(id) }, auth, doc));
  const verifyReceipt = (jws: string, subjects?: readonly string[]) => checkReceipt({ redis: deps.redis, keys: tlog.keys, jwks: tlog.jwks, subjectRefOf }, jws, subjects);
  app.use(adminReceiptsRouter({ verifyReceipt, log: deps.log }, auth, doc));
  // Notices (CONTRACT 5; RULES 12, 23): core-store events fan out to past recipients, each under
  // the pseudonym the partner received (the key version of its log entries; the current one only
  // for an index from before [3/6]).
  const pseudonymFor = (partnerId: string, userId: string, keyVersion: number | null) =>
    svc.pseudonyms.encode(userId, partnerId, keyVersion ?? svc.keyVersions(partnerId).current);
  app.use(adminEventsRouter({
    notices: deps.notices, transferLog: deps.transferLog, agreements: deps.agreements, pseudonymFor,
    home: () => deps.config.jurisdiction.home, log: deps.log,
  }, auth, doc));
  // Issue 16: the staff console, on this listener only.
  app.use('/console', consoleRouter({
    redis: deps.redis, log: deps.log, config: deps.config, pseudonymMaster: deps.keys.pseudonymMaster, transferLog: deps.transferLog,
    tokens: admin.tokens, partnerExists: (id) => admin.partners.exists(id), partners: admin.partners, credentials: admin.credentials, cursors,
    integrity: { verify: (o) => tlog.verify(o), status: () => tlog.status(), jwks: tlog.jwks, verifyReceipt, incidents: deps.incidents },
    agreementsPage: { agreements: admin.agreements, partners: admin.partners, instances: () => listInstances(deps.redis, deps.instance.ttlMs), policyVersions: deps.config.policy.versions.map((v) => v.version) },
    jurisdiction: deps.jurisdiction,
    incidents: { incidents: deps.incidents, overdue: (limit) => deps.notices.overdue(limit), reidentifications },
    partnerDetails: { partners: admin.partners, partnerKeys: deps.partnerKeys, agreements: deps.agreements, accessDenials: deps.accessDenials, notices: deps.notices },
  }, doc));
  return finish(app, deps);
}

/** Both applications over one set of shared services (main.ts listens with each on its own port). */
export function createApps(deps: Deps): Record<Listener, Express> {
  const planes = createPlanes(deps);
  return { partner: createPartnerApp(deps, planes), admin: createAdminApp(deps, planes) };
}
