// The console session cookie. `__Host-` makes the browser accept it only with Secure, Path=/ and
// no Domain, so no other host (a sibling subdomain included) can set or overwrite it; HttpOnly
// keeps it from scripts, SameSite=Strict from cross-site requests (issue 16, CSRF defence one).
import type { Request, Response } from 'express';

export const SESSION_COOKIE = '__Host-pg-console';
const FLAGS = 'Path=/; Secure; HttpOnly; SameSite=Strict';

/** The session id the browser sent, if any (first cookie of that name). */
export function sessionIdOf(req: Request): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** No Max-Age: a browser session cookie; the server-side timeouts decide how long it is worth anything. */
export const setSessionCookie = (res: Response, id: string) => res.append('Set-Cookie', `${SESSION_COOKIE}=${id}; ${FLAGS}`);

export const clearSessionCookie = (res: Response) => res.append('Set-Cookie', `${SESSION_COOKIE}=; ${FLAGS}; Max-Age=0`);
