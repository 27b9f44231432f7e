// Partner bearer authentication (CONTRACT 4, 6 step 1) with passport-http-bearer: the token from
// the token cache when known there, else one Redis round trip (the token, and that its credential
// still exists); partner and agreement then come from memory. Admin tokens are never accepted
// here, and partner tokens never on admin routes (RULES 43): the two live in different key spaces.
// RULES 38 (RFC 8705 §3): the certificate binding is part of authentication, so every partner
// route that declares requirePartner enforces it, not only the data calls.
import { timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import passport from 'passport';
import { Strategy as BearerStrategy } from 'passport-http-bearer';
import { Problem, redisUnavailable } from '../http/problem.ts';
import { clientCertThumbprint } from '../tls/evidence.ts';
import { tokenHash, type PartnerToken, type PartnerTokens } from './partner-tokens.ts';

const STRATEGY = 'partner-bearer';

const unauthorized = (presented: boolean, detail?: string) =>
  new Problem({
    status: 401, code: 'invalid_token',
    detail: detail ?? (presented ? 'the access token is unknown, expired or revoked' : 'a partner access token is required (Authorization: Bearer ...)'),
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

/** The lookups partner authentication needs (PartnerTokens provides it). */
export type TokenLookup = Pick<PartnerTokens, 'lookup'>;

export interface PartnerAuthOptions {
  /** RULES 38: the listener asks for client certificates (server.tls.requestClientCert), so an unbound token is refused. */
  bindingRequired: boolean;
  /**
   * Runs before a binding refusal is answered; data routes record the denial in the transfer log
   * there (CONTRACT 6: each denial is logged). An error it throws (e.g. 503) is answered instead.
   */
  onBindingRefused?: (req: Request, res: Response, token: PartnerToken) => Promise<void>;
  /** RULES 48: a call refused before its partner is known (no token, or an unknown one) is recorded here. */
  onRefused?: (req: Request, res: Response, reason: 'missing_token' | 'bad_token') => void;
}

const sameThumbprint = (a: string, b: string) => {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y); // DESIGN: compared in constant time
};

/** RULES 38: usable only over the certificate it was bound to; unbound only where binding is not required. */
export function boundToConnection(token: PartnerToken, req: Request, bindingRequired: boolean): boolean {
  if (token.cnf === null) return !bindingRequired;
  const presented = clientCertThumbprint(req.socket);
  return presented !== null && sameThumbprint(token.cnf, presented);
}

export function createPartnerAuth(tokens: TokenLookup, opts: PartnerAuthOptions): RequestHandler {
  const pp = new passport.Passport();
  type Done = (err: unknown, t?: PartnerToken | false) => void;
  pp.use(STRATEGY, new BearerStrategy({ realm: 'partner', passReqToCallback: true }, (req: Request, token: string, done: Done) => {
    // Header only: tokens in URLs end up in logs.
    if (!/^Bearer\s/i.test(req.headers.authorization ?? '')) return done(null, false);
    tokens.lookup(token).then((t) => done(null, t ?? false), (e: unknown) => done(e));
  }));
  const refuseUnbound = (req: Request, res: Response, t: PartnerToken, next: (e?: unknown) => void) => {
    const refusal = unauthorized(true, 'the access token is not bound to the client certificate of this connection');
    if (!opts.onBindingRefused) return next(refusal);
    opts.onBindingRefused(req, res, t).then(() => next(refusal), next);
  };
  return (req, res, next) => {
    pp.authenticate(STRATEGY, { session: false }, (err: unknown, t: PartnerToken | false) => {
      if (err) return next(redisUnavailable()); // fail closed
      if (!t) {
        const presented = Boolean(req.headers.authorization);
        opts.onRefused?.(req, res, presented ? 'bad_token' : 'missing_token');
        return next(unauthorized(presented));
      }
      if (!boundToConnection(t, req, opts.bindingRequired)) return refuseUnbound(req, res, t, next);
      res.locals.partnerToken = t;
      // Only the header is accepted (above), so this is the token that was looked up.
      res.locals.partnerTokenHash = tokenHash(/^Bearer\s+(\S+)/i.exec(req.headers.authorization ?? '')?.[1] ?? '');
      next();
    })(req, res, next);
  };
}
