// Staff single sign-on (RULES 43; issue 16): GET /console/oidc/start sends the browser to the IdP
// with PKCE, state and nonce kept server-side; GET /console/oidc/callback takes that flow back out
// (once), exchanges the code, and opens a session only for a user whose sign-in used MFA and whose
// groups map to a console role. Every refusal is a page that says why, and a log line with a code.
import type { Request, Response, Router } from 'express';
import { AuthorizationResponseError } from 'openid-client';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { addressPrefix } from '../access-denials/address-prefix.ts';
import type { ApiDoc } from '../http/openapi.ts';
import { html, type Html } from './html.ts';
import { page } from './layout.ts';
import type { ConsolePageContext } from './context.ts';
import { decideStaff, type OidcPolicy } from './oidc-claims.ts';
import type { OidcSignIn } from './oidc-client.ts';
import { clearFlowCookie, flowIdOf, setFlowCookie, type OidcFlows } from './oidc-flows.ts';
import { setSessionCookie } from './session-cookie.ts';
import type { ConsoleSessions } from './sessions.ts';

export interface OidcRoutesDeps {
  signIn: OidcSignIn;
  flows: Pick<OidcFlows, 'begin' | 'take'>;
  sessions: Pick<ConsoleSessions, 'create'>;
  policy: OidcPolicy;
  onSignIn?: () => void;
}

type Reason = 'flow_unknown' | 'idp_error' | 'response_mismatch' | 'idp_unavailable' | 'mfa_required' | 'no_role' | 'too_many_sign_ins';

// /oidc/start needs no session and writes a pending flow to Redis (10 minutes): without a bound,
// anyone could fill Redis with them. Per address prefix, and for this instance as a whole.
export const START_LIMITS = { perAddressPerMinute: 30, perInstancePerMinute: 600 };

export function mountOidc(r: Router, ctx: ConsolePageContext, doc: ApiDoc, deps: OidcRoutesDeps): void {
  const refuse = (res: Response, status: number, reason: Reason, message: string, extra: Record<string, unknown> = {}) => {
    // Denials are logged too: a code, never a request value; the staff sub only once the IdP vouched for it.
    ctx.log.warn({ action: 'console.sign_in_refused', via: 'oidc', reason, ...extra }, 'console sign-in refused');
    const body: Html = html`<p role="alert" id="refusal" data-reason="${reason}">${message}</p><p><a href="/console/sign-in">Back to sign-in</a></p>`;
    res.status(status).set('Cache-Control', 'no-store').type('html').send(page(ctx.assets, { title: 'Sign-in refused', body }).text);
  };

  doc.add('GET', '/console/oidc/start', {
    summary: 'console: start single sign-on (RULES 43): authorization code flow with PKCE (S256), state and nonce kept in Redis for 10 minutes under a random id in the __Host-pg-console-oidc cookie (SameSite=Lax)',
    auth: 'public', responses: { 303: 'to the IdP\'s authorization endpoint', 429: 'text/html: too many sign-ins started from this address (30 a minute) or this instance (600 a minute); Retry-After', 503: 'text/html: the IdP cannot be reached' },
  });
  const perAddress = new RateLimiterMemory({ points: START_LIMITS.perAddressPerMinute, duration: 60 });
  const perInstance = new RateLimiterMemory({ points: START_LIMITS.perInstancePerMinute, duration: 60 });
  r.get('/oidc/start', async (req, res) => {
    try {
      await perAddress.consume(addressPrefix(req.socket.remoteAddress) ?? 'unknown');
      await perInstance.consume('all');
    } catch {
      res.set('Retry-After', '60');
      return refuse(res, 429, 'too_many_sign_ins', 'Too many sign-ins were started from here just now. Wait a minute and try again.');
    }
    let started;
    try {
      started = await deps.signIn.start();
    } catch (e) {
      return refuse(res, 503, 'idp_unavailable', 'The identity provider cannot be reached just now, so single sign-on cannot start. Try again in a minute.', { err: (e as Error).name });
    }
    setFlowCookie(res, await deps.flows.begin(started.flow));
    res.set('Cache-Control', 'no-store').redirect(303, started.url);
  });

  doc.add('GET', '/console/oidc/callback', {
    summary: 'console: the IdP\'s redirect back (console.oidc.redirectUri). Checks state, PKCE, the ID token (signature, issuer, audience, nonce), the MFA claim (console.oidc.requireAmr / requireAcr) and maps the groups claim to a role (console.oidc.roles); opens a session with the IdP\'s sub and name',
    auth: 'public',
    responses: {
      200: 'text/html: signed in; the page continues to /console/overview (a same-site navigation, so the SameSite=Strict session cookie is sent)',
      400: 'text/html: no sign-in in progress in this browser (expired, used, or started elsewhere)',
      403: 'text/html: refused, saying why: no MFA, no mapped role, the IdP refused, or a response that does not match the sign-in started (state, nonce, code)',
      503: 'text/html: the IdP cannot be reached',
    },
  });
  r.get('/oidc/callback', async (req: Request, res: Response) => {
    const flow = await deps.flows.take(flowIdOf(req));
    clearFlowCookie(res);
    if (!flow) return refuse(res, 400, 'flow_unknown', 'There is no sign-in in progress in this browser: it took longer than 10 minutes, was already used, or was started elsewhere. Start again.');
    const query = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?')) : '';
    let claims: Record<string, unknown>;
    try {
      claims = await deps.signIn.finish(query, flow);
    } catch (e) {
      if (e instanceof AuthorizationResponseError) return refuse(res, 403, 'idp_error', 'The identity provider did not sign you in. Start again, or ask your identity team.');
      // undici's fetch fails with a TypeError ('fetch failed'); openid-client passes it on as it is.
      if (e instanceof TypeError) return refuse(res, 503, 'idp_unavailable', 'The identity provider cannot be reached just now. Try again in a minute.', { err: (e as Error).name });
      // A wrong state, nonce, code or ID token: someone else's or a forged response (RULES 43).
      return refuse(res, 403, 'response_mismatch', 'The sign-in response does not match the sign-in this browser started, so it was refused. Start again.', { err: (e as { code?: string }).code ?? (e as Error).name });
    }
    const d = decideStaff(claims, deps.policy);
    if ('refused' in d) return refuse(res, 403, d.refused, d.message, { staffSub: String(claims.sub) });
    const { id } = await deps.sessions.create(d.staff, null); // RULES 43: no token to revoke; the IdP's sub is the actor
    await ctx.audit.record(d.staff, 'console.sign_in', d.staff.id);
    setSessionCookie(res, id);
    deps.onSignIn?.();
    // The IdP's redirect made this a cross-site navigation: a 303 from here would still be one, and
    // the browser would withhold the SameSite=Strict session cookie. A page of ours that moves on
    // makes the next request same-site.
    const body = html`<meta http-equiv="refresh" content="0;url=/console/overview"><p>Signed in as <strong>${d.staff.name}</strong> (${d.staff.role}).</p><p><a href="/console/overview" id="continue">Continue to the console</a></p>`;
    res.status(200).set('Cache-Control', 'no-store').type('html').send(page(ctx.assets, { title: 'Signed in', body }).text);
  });
}
