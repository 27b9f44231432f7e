// Token sign-in and sign-out (issue 16). With console.tokenLogin on, an admin or auditor token
// (checked by the admin token store) opens a session; tokens of other roles cannot sign in. The
// token is never kept: the session holds its SHA-256, by which a revocation ends the session.
import type { Router } from 'express';
import type { AdminTokens } from '../auth/admin-tokens.ts';
import { sha256 } from '../auth/admin-tokens.ts';
import type { ApiDoc } from '../http/openapi.ts';
import { html } from './html.ts';
import { page } from './layout.ts';
import { sessionOf } from './console-auth.ts';
import type { ConsolePageContext } from './context.ts';
import { clearSessionCookie, sessionIdOf, setSessionCookie } from './session-cookie.ts';
import { isConsoleRole, type ConsoleSessions } from './sessions.ts';

export interface SignInDeps {
  tokens: Pick<AdminTokens, 'verify'>;
  sessions: Pick<ConsoleSessions, 'create' | 'delete'>;
  /** console.tokenLogin */
  tokenLogin: boolean;
  /** console.oidc.name when single sign-on is configured (RULES 43), else null. */
  sso: string | null;
  onSignIn?: () => void;
}

// RULES 43: staff single sign-on first when configured; the token form only when console.tokenLogin is on.
function form(tokenLogin: boolean, sso: string | null, error?: string) {
  const ssoLink = sso ? html`<p><a href="/console/oidc/start" role="button" id="sso">Sign in with ${sso}</a></p>` : '';
  if (!tokenLogin) return html`${ssoLink}<p class="muted">Token sign-in is turned off on this gateway (<code>console.tokenLogin</code>).${sso ? '' : ' Ask an operator to configure single sign-on (console.oidc) or to turn token sign-in on.'}</p>`;
  return html`${ssoLink}<form method="post" action="/console/sign-in">
<label for="token">Admin or auditor token
<input id="token" name="token" type="password" autocomplete="off" required spellcheck="false"${error ? html` aria-invalid="true" aria-describedby="token-error"` : ''}></label>
${error ? html`<small class="field-error" id="token-error" role="alert">${error}</small>` : ''}
<button type="submit">Sign in</button>
</form>
<p class="muted"><small>Tokens are minted with <code>partner-gateway tokens</code> or <code>POST /admin/v1/tokens</code>. Auditors can read; only admins can change anything.</small></p>`;
}

export function mountSignIn(r: Router, ctx: ConsolePageContext, doc: ApiDoc, deps: SignInDeps): void {
  const show = (error?: string) => page(ctx.assets, { title: 'Sign in', body: form(deps.tokenLogin, deps.sso, error) }).text;

  doc.add('GET', '/console/sign-in', { summary: 'console: the sign-in page', auth: 'public', responses: { 200: 'text/html', 303: 'already signed in: to /console/overview' } });
  r.get('/sign-in', async (req, res) => {
    if (await ctx.auth.current(req, res)) return res.redirect(303, '/console/overview');
    res.set('Cache-Control', 'no-store').type('html').send(show());
  });

  doc.add('POST', '/console/sign-in', {
    summary: 'console: sign in with an admin or auditor token (form field token; console.tokenLogin must be on); sets the __Host- session cookie. Origin must be the control plane\'s own',
    auth: 'public', responses: { 303: 'signed in: to /console/overview', 401: 'text/html: unknown, expired or revoked token, or a role that cannot use the console', 403: 'token sign-in is off, or a foreign Origin' },
  });
  r.post('/sign-in', async (req, res) => {
    if (!deps.tokenLogin) return res.status(403).type('html').send(show());
    const token = typeof req.body?.token === 'string' ? req.body.token.trim() : '';
    const actor = token ? await deps.tokens.verify(token) : null;
    if (!actor || !isConsoleRole(actor.role)) {
      return res.status(401).set('Cache-Control', 'no-store').type('html').send(show('That token is unknown, expired or revoked, or its role cannot use the console.'));
    }
    await deps.sessions.delete(sessionIdOf(req)); // a new id at every sign-in: no session fixation
    const staff = { id: actor.tokenId, name: actor.tokenId, role: actor.role, via: 'token' as const };
    const { id } = await deps.sessions.create(staff, sha256(token).toString('hex'));
    await ctx.audit.record(staff, 'console.sign_in', staff.id);
    setSessionCookie(res, id);
    deps.onSignIn?.();
    res.redirect(303, '/console/overview');
  });

  doc.add('POST', '/console/sign-out', {
    summary: 'console: sign out (ends the session in Redis, clears the cookie); needs the CSRF token and the console\'s Origin', auth: 'console session (admin or auditor)',
    responses: { 303: 'to /console/sign-in', 403: 'text/html: missing or wrong CSRF token, or a foreign Origin' },
  });
  r.post('/sign-out', ctx.auth.requireStaff('admin', 'auditor'), async (req, res) => {
    const s = sessionOf(res);
    await deps.sessions.delete(sessionIdOf(req));
    await ctx.audit.record(s.staff, 'console.sign_out', s.staff.id);
    clearSessionCookie(res);
    res.redirect(303, '/console/sign-in');
  });
}
