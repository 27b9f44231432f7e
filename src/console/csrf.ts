// CSRF defence for every state-changing console request (issue 16), on top of the SameSite=Strict
// cookie: the Origin header must be the control plane's own origin, and the form field `_csrf` (or
// htmx's X-CSRF-Token header) must equal the session's token, compared in constant time.
import { timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';

/** The origin a POST must come from: configured, or https:// plus the Host this request reached. */
export function expectedOrigin(req: Request, configured: string | null): string | null {
  if (configured) return configured.toLowerCase();
  const host = req.headers.host;
  return host ? `https://${host}`.toLowerCase() : null;
}

/** A missing Origin fails too: every browser that honours SameSite sends Origin on a POST. */
export function originAllowed(req: Request, configured: string | null): boolean {
  const origin = req.headers.origin;
  const expected = expectedOrigin(req, configured);
  return typeof origin === 'string' && expected !== null && origin.toLowerCase() === expected;
}

/** The token the request presents: the htmx header, else the hidden form field. */
function presented(req: Request): string {
  const h = req.headers['x-csrf-token'];
  if (typeof h === 'string' && h) return h;
  const body = req.body as Record<string, unknown> | undefined;
  return typeof body?._csrf === 'string' ? body._csrf : '';
}

export function csrfTokenValid(req: Request, sessionToken: string): boolean {
  const a = Buffer.from(presented(req), 'utf8');
  const b = Buffer.from(sessionToken, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
