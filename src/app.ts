// createApp(deps): middleware, routers and the error handler; no I/O of its own.
import express, { type Express } from 'express';
import helmet from 'helmet';
import { requestIds } from './http/request-id.ts';
import { errorHandler, notFound } from './http/errors.ts';
import { boundBodyDepth } from './http/body-depth.ts';
import { opsRouter } from './http/ops.ts';
import { ApiDoc } from './http/openapi.ts';
import type { Deps } from './deps.ts';
import { createAdminServices } from './agreements/admin-services.ts';
import { createAdminAuth } from './auth/admin-auth.ts';
import { adminTokensRouter } from './http/admin-tokens.ts';
import { adminPartnersRouter } from './http/admin-partners.ts';
import { adminAgreementsRouter } from './http/admin-agreements.ts';
import { adminKeysRouter } from './http/admin-keys.ts';
import { adminJurisdictionRouter } from './http/admin-jurisdiction.ts';
import { adminTransfersRouter } from './http/admin-transfers.ts';
import { wellKnownRouter } from './http/well-known.ts';
import { PartnerTokens } from './auth/partner-tokens.ts';
import { createPartnerAuth } from './auth/partner-auth.ts';
import { oauthRouter } from './http/oauth.ts';
import { partnerRouter } from './http/partner.ts';
import { partnerRateLimit } from './http/rate-limit.ts';
import { adminEventsRouter } from './http/admin-events.ts';
import { partnerNotificationsRouter } from './http/partner-notifications.ts';
import { createPullServices } from './transfers/services.ts';
import { CursorCodec, cursorKey } from './cursors/codec.ts';
import { JoseSealer } from './transfers/jose-response.ts';

export function createApp(deps: Deps): Express {
  const app = express();
  const doc = new ApiDoc();
  app.disable('x-powered-by');
  app.set('trust proxy', false); // RULES 39: no forwarded identity from outside
  app.set('query parser', 'simple'); // no nested objects from query strings
  // No ETag: answers carry personal data and are never cached (no-store), and hashing every body
  // cost CPU on the partner read path.
  app.set('etag', false);
  app.use(requestIds(deps.log));
  app.use((req, res, next) => {
    const end = deps.metrics.httpDuration.startTimer();
    res.on('finish', () => {
      const route = req.route?.path ? `${req.baseUrl}${req.route.path}` : 'unmatched';
      deps.metrics.httpRequests.inc({ route, status: String(res.statusCode) });
      end({ route });
    });
    next();
  });
  // RULES 37: HSTS two years with subdomains; the rest of helmet's defaults suit an API too.
  app.use(helmet({ strictTransportSecurity: { maxAge: 63072000, includeSubDomains: true, preload: false } }));
  // Bodies are parsed only where a method carries one: the partner read path (GET) skips the
  // parsers entirely (they showed up in the bench profile).
  const json = express.json({ limit: deps.config.server.bodyLimitBytes, strict: true });
  const form = express.urlencoded({ limit: deps.config.server.bodyLimitBytes, extended: false });
  const hasBody = (m: string) => m !== 'GET' && m !== 'HEAD';
  app.use((req, res, next) => (hasBody(req.method) ? json(req, res, next) : next()));
  app.use((req, res, next) => (hasBody(req.method) ? form(req, res, next) : next()));
  app.use(boundBodyDepth);

  app.use(opsRouter(deps, doc));
  // DESIGN 9, RULES 42: one codec seals every cursor handed out (bulk, notifications, transfers,
  // audit, jurisdiction), each bound to its kind and caller, expiring after limits.cursorTtlSeconds.
  const cursors = new CursorCodec(cursorKey(deps.keys.pseudonymMaster), { ttlSeconds: deps.config.limits.cursorTtlSeconds });
  // Control plane services (CONTRACT 5); the partner plane reads partners from them too.
  const admin = createAdminServices(deps);
  const auth = createAdminAuth(admin.tokens);
  // Partner plane (CONTRACT 4): tokens, then data calls decided by the pull use cases. Mounted
  // before the admin routers so the hot read path does not walk their stacks (bench profile).
  const partnerTokens = new PartnerTokens(deps.redis, undefined, deps.config.redis.commandTimeoutMs, deps.partnerTokenCache);
  const requirePartner = createPartnerAuth(partnerTokens);
  const svc = createPullServices({
    config: deps.config, agreements: deps.agreements, upstream: deps.upstream, transferLog: deps.transferLog,
    pseudonymMaster: deps.keys.pseudonymMaster, metrics: deps.metrics,
    canaries: deps.config.egressGuard.canaries, // RULES 9: the seeded canaries from configuration
    deletions: deps.notices, // RULES 23: each release schedules its retention_expired notice
    // RULES 29: current and still-accepted pseudonym key versions; throws 503 while not loaded (fail closed).
    keyVersions: (p) => deps.partnerKeys.versions(p),
    // RULES 17, 20: the governed adequacy list and kill-switch; throws 503 while not loaded (fail closed).
    jurisdiction: () => deps.jurisdiction.current(),
  });
  app.use(oauthRouter({
    redis: deps.redis, admin, agreements: deps.agreements, tokens: partnerTokens,
    tokenEndpoint: () => `${deps.publicUrl()}/oauth/token`,
  }, doc));
  app.use(partnerRouter({
    svc, requirePartner, rateLimit: partnerRateLimit(deps.redis, deps.agreements, { timeoutMs: deps.config.redis.commandTimeoutMs }), cursors,
    partners: admin.partners, sealer: new JoseSealer(deps.keys.signingJwk),
  }, doc));

  // Control plane routes (CONTRACT 5, RULES 43): every admin route declares its role with auth.requireRole.
  app.use(adminTokensRouter(admin, auth, doc, cursors));
  app.use(adminPartnersRouter(admin, auth, doc));
  app.use(adminAgreementsRouter(admin, auth, doc, deps.config.policy.versions.map((v) => v.version)));
  app.use(adminKeysRouter({ partnerKeys: deps.partnerKeys, partnerExists: (id) => admin.partners.exists(id), graceSeconds: deps.config.pseudonym.rotationGraceSeconds }, auth, doc));
  app.use(adminJurisdictionRouter(deps.jurisdiction, auth, doc, cursors));
  app.use(adminTransfersRouter({ transferLog: deps.transferLog, log: deps.log, cursors }, auth, doc));
  app.use(wellKnownRouter(() => deps.transferLog.jwks, doc));

  // Notices (CONTRACT 4, 5; RULES 12, 23): core-store events fan out to past recipients, each under
  // the pseudonym the partner received (the key version of its log entries; the current one only
  // for an index from before [3/6]); partners pull them or get them pushed.
  const pseudonymFor = (partnerId: string, userId: string, keyVersion: number | null) =>
    svc.pseudonyms.encode(userId, partnerId, keyVersion ?? svc.keyVersions(partnerId).current);
  app.use(adminEventsRouter({
    notices: deps.notices, transferLog: deps.transferLog, agreements: deps.agreements, pseudonymFor,
    home: () => deps.config.jurisdiction.home, log: deps.log,
  }, auth, doc));
  app.use(partnerNotificationsRouter({ notices: deps.notices, requirePartner, cursors }, doc));

  app.use(notFound);
  app.use(errorHandler(deps.log));
  return app;
}
