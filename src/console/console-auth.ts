// Who is using the console, checked on every request (issue 16; RULES 43): the session from the
// cookie, still within its timeouts, and — for a token sign-in — that token still valid, so a
// revoked or expired token ends its sessions at their next request. Guards are declared on the
// route: requireStaff(...roles) for pages, and every POST also passes the Origin and CSRF checks.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { AdminTokens } from '../auth/admin-tokens.ts';
import type { ConsoleRole, ConsoleSessions, Session } from './sessions.ts';
import { clearSessionCookie, sessionIdOf } from './session-cookie.ts';
import { csrfTokenValid, originAllowed } from './csrf.ts';
import { ConsolePageError } from './page-error.ts';

export interface ConsoleAuthDeps {
  sessions: Pick<ConsoleSessions, 'get' | 'delete'>;
  tokens: Pick<AdminTokens, 'verifyHash'>;
  /** console.origin: the control plane's own origin, or null to take it from the Host header. */
  origin: string | null;
}

export interface ConsoleAuth {
  /** The live session for this request's cookie, or null (an ended one is cleared). */
  current(req: Request, res: Response, opts?: { touch: boolean }): Promise<Session | null>;
  /** Every POST: the Origin must be our own (before any session is looked at). */
  checkOrigin: RequestHandler;
  /** A signed-in session of one of these roles; on a POST also a valid CSRF token. */
  requireStaff(...roles: [ConsoleRole, ...ConsoleRole[]]): RequestHandler;
}

/** The session of a request that passed requireStaff. */
export function sessionOf(res: Response): Session {
  const s = res.locals.consoleSession as Session | undefined;
  if (!s) throw new Error('route has no requireStaff()');
  return s;
}

const isWrite = (req: Request) => req.method !== 'GET' && req.method !== 'HEAD';

export function createConsoleAuth({ sessions, tokens, origin }: ConsoleAuthDeps): ConsoleAuth {
  const current: ConsoleAuth['current'] = async (req, res, opts = { touch: true }) => {
    const id = sessionIdOf(req);
    const s = await sessions.get(id, opts);
    if (s?.tokenHash && !(await tokens.verifyHash(Buffer.from(s.tokenHash, 'hex')))) {
      await sessions.delete(id); // the token was revoked or expired: so is every session made with it
      if (!res.headersSent) clearSessionCookie(res);
      return null;
    }
    if (!s && id && !res.headersSent) clearSessionCookie(res);
    return s;
  };

  const signIn = (req: Request, res: Response) => {
    // htmx follows HX-Redirect with a full page load; a plain request gets a 303.
    if (req.headers['hx-request']) res.set('HX-Redirect', '/console/sign-in').status(401).end();
    else res.redirect(303, '/console/sign-in');
  };

  return {
    current,
    checkOrigin(req, _res, next) {
      if (isWrite(req) && !originAllowed(req, origin)) return next(new ConsolePageError(403, 'This request did not come from the console\'s own origin, so it was refused.'));
      next();
    },
    requireStaff(...roles) {
      return (req: Request, res: Response, next: NextFunction) => {
        current(req, res).then((s) => {
          if (!s) return signIn(req, res);
          if (isWrite(req) && !csrfTokenValid(req, s.csrf)) return next(new ConsolePageError(403, 'This form is missing its security token or it has expired. Reload the page and try again.'));
          // Issue 16: an auditor's write request is refused however it was made (no control is rendered for it either).
          if (!roles.includes(s.staff.role)) return next(new ConsolePageError(403, `This needs the ${roles.join(' or ')} role; you are signed in as ${s.staff.role}.`));
          res.locals.consoleSession = s;
          next();
        }, next);
      };
    },
  };
}
