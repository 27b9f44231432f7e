// Admin authentication (CONTRACT 5): passport + passport-http-bearer over AdminTokens. Each route
// declares the role it needs with requireRole(role); no token or an unknown, expired or revoked
// one is 401, a token of another role is 403 (RULES 43, OWASP API5). Every lookup goes to Redis,
// so a revocation is effective on the next request, on every instance.
import type { Request, RequestHandler, Response } from 'express';
import passport from 'passport';
import { Strategy as BearerStrategy } from 'passport-http-bearer';
import { Problem, redisUnavailable } from '../http/problem.ts';
import type { AdminTokens } from './admin-tokens.ts';
import type { Actor, Role } from './roles.ts';

const STRATEGY = 'admin-bearer';

export interface AdminAuth {
  /** Authenticate the bearer token, then require one of these roles. Put it first on the route. */
  requireRole(...roles: [Role, ...Role[]]): RequestHandler;
}

// Partner access tokens are 32 random bytes in base64url; admin tokens carry the `pga_` prefix.
const PARTNER_TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;
const bearerOf = (req: Request) => /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];

/** The authenticated caller of an admin route (set by requireRole). */
export function actorOf(res: Response): Actor {
  const a = res.locals.adminActor as Actor | undefined;
  if (!a) throw new Error('route has no requireRole()');
  return a;
}

const unauthorized = (detail: string, presented: boolean) =>
  new Problem({
    status: 401, code: 'invalid_token', detail,
    headers: { 'WWW-Authenticate': `Bearer realm="admin"${presented ? ', error="invalid_token"' : ''}` },
  });

export function createAdminAuth(tokens: AdminTokens): AdminAuth {
  // One Passport instance per app, so two gateways in one process never share a strategy.
  const pp = new passport.Passport();
  type Done = (err: unknown, actor?: Actor | false, info?: string) => void;
  pp.use(STRATEGY, new BearerStrategy({ realm: 'admin', passReqToCallback: true }, (req: Request, token: string, done: Done) => {
    // RFC 6750 allows tokens in the body or query; they end up in logs and caches, so header only.
    if (!/^Bearer\s/i.test(req.headers.authorization ?? '')) return done(null, false, 'send the token in the Authorization header');
    tokens.verify(token).then((actor) => done(null, actor ?? false), (e: unknown) => done(e));
  }));

  return {
    requireRole(...roles) {
      return (req, res, next) => {
        pp.authenticate(STRATEGY, { session: false }, (err: unknown, actor: Actor | false) => {
          if (err) return next(redisUnavailable()); // fail closed: a check that cannot run is a denial
          if (!actor) {
            // RULES 43: a partner credential on the control plane is refused as such (403), told
            // apart by its shape only after no admin token matched (no Redis lookup of partner tokens).
            if (PARTNER_TOKEN_SHAPE.test(bearerOf(req) ?? '')) {
              return next(new Problem({ status: 403, code: 'forbidden', detail: 'partner tokens are not accepted on the control plane' }));
            }
            const presented = Boolean(req.headers.authorization);
            return next(unauthorized(presented ? 'the token is unknown, expired or revoked' : 'an admin bearer token is required', presented));
          }
          if (!roles.includes(actor.role)) return next(new Problem({ status: 403, code: 'forbidden', detail: `this route needs the ${roles.join(' or ')} role` }));
          res.locals.adminActor = actor;
          next();
        })(req, res, next);
      };
    },
  };
}
