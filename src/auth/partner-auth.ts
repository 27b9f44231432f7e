// Partner bearer authentication (CONTRACT 4, 6 step 1) with passport-http-bearer: the token from
// the token cache when known there, else one Redis round trip (the token, and that its credential
// still exists); partner and agreement then come from memory. Admin tokens are never accepted
// here, and partner tokens never on admin routes (RULES 43): the two live in different key spaces.
import type { Request, RequestHandler, Response } from 'express';
import passport from 'passport';
import { Strategy as BearerStrategy } from 'passport-http-bearer';
import { Problem, redisUnavailable } from '../http/problem.ts';
import { tokenHash, type PartnerToken, type PartnerTokens } from './partner-tokens.ts';

const STRATEGY = 'partner-bearer';

const unauthorized = (presented: boolean) =>
  new Problem({
    status: 401, code: 'invalid_token',
    detail: presented ? 'the access token is unknown, expired or revoked' : 'a partner access token is required (Authorization: Bearer ...)',
    headers: { 'WWW-Authenticate': `Bearer realm="partner"${presented ? ', error="invalid_token"' : ''}` },
  });

export function partnerTokenOf(res: Response): PartnerToken {
  const t = res.locals.partnerToken as PartnerToken | undefined;
  if (!t) throw new Error('route has no requirePartner()');
  return t;
}

/** The presented token's hash, so a stream can ask whether it was revoked since (DESIGN 8). */
export function partnerTokenHashOf(res: Response): string {
  const h = res.locals.partnerTokenHash as string | undefined;
  if (!h) throw new Error('route has no requirePartner()');
  return h;
}

export function createPartnerAuth(tokens: PartnerTokens): RequestHandler {
  const pp = new passport.Passport();
  type Done = (err: unknown, t?: PartnerToken | false) => void;
  pp.use(STRATEGY, new BearerStrategy({ realm: 'partner', passReqToCallback: true }, (req: Request, token: string, done: Done) => {
    // Header only: tokens in URLs end up in logs.
    if (!/^Bearer\s/i.test(req.headers.authorization ?? '')) return done(null, false);
    tokens.lookup(token).then((t) => done(null, t ?? false), (e: unknown) => done(e));
  }));
  return (req, res, next) => {
    pp.authenticate(STRATEGY, { session: false }, (err: unknown, t: PartnerToken | false) => {
      if (err) return next(redisUnavailable()); // fail closed
      if (!t) return next(unauthorized(Boolean(req.headers.authorization)));
      res.locals.partnerToken = t;
      // Only the header is accepted (above), so this is the token that was looked up.
      res.locals.partnerTokenHash = tokenHash(/^Bearer\s+(\S+)/i.exec(req.headers.authorization ?? '')?.[1] ?? '');
      next();
    })(req, res, next);
  };
}
