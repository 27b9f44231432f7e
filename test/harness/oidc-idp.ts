// A real OpenID Provider for the console's SSO tests (RULES 43): oidc-provider 9 over HTTPS with a
// certificate from the test CA, an in-memory account store, and a minimal login interaction that
// takes the user id (and signs them in with that user's amr/acr). Consent is granted by the IdP for
// the console client, as a company IdP does for its own applications.
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
// @ts-expect-error oidc-provider ships no type declarations (and @types/oidc-provider is not installed)
import Provider from 'oidc-provider';
import { testCertWithValidity, validFor } from './certs.ts';
import { readFileSync } from 'node:fs';

export interface IdpUser { name: string; groups: string[]; amr: string[]; acr?: string }

export interface TestIdp {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The IdP's certificate (PEM path), e.g. for a browser's SPKI pin. */
  certPath: string;
  close(): Promise<void>;
}

const SCOPE = 'openid profile groups';

async function body(req: IncomingMessage): Promise<URLSearchParams> {
  let s = '';
  for await (const chunk of req) s += chunk;
  return new URLSearchParams(s);
}

/** Starts the IdP on a free port; `redirectUri` is the console's callback it will accept. */
/** `extraClients`: more oidc-provider client metadata, e.g. a private_key_jwt client with its jwks. */
export async function startTestIdp(users: Record<string, IdpUser>, redirectUri: string, extraClients: object[] = []): Promise<TestIdp> {
  const cert = await testCertWithValidity('idp', validFor(1, 30));
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_q, s) => s.writeHead(503).end();
  const server: Server = createServer({ cert: readFileSync(cert.cert), key: readFileSync(cert.key), minVersion: 'TLSv1.2' }, (q, s) => handler(q, s));
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const issuer = `https://localhost:${(server.address() as { port: number }).port}`;
  const clientId = 'pg-console';
  const clientSecret = 'idp-test-secret-0123456789abcdef0123456789';

  const provider = new Provider(issuer, {
    clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: [redirectUri], grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic' }, ...extraClients],
    // amr/acr in the ID token by default, as company IdPs (Keycloak, Entra ID, Okta) put them; name and
    // groups only from userinfo, which the console then fetches.
    claims: { amr: null, acr: null, auth_time: null, iss: null, sid: null, openid: ['sub', 'amr', 'acr', 'auth_time'], profile: ['name'], groups: ['groups'] },
    cookies: { keys: ['pg-test-idp-cookie-key'] },
    features: { devInteractions: { enabled: false } },
    pkce: { required: () => true },
    ttl: { AccessToken: 300, AuthorizationCode: 60, IdToken: 300, Interaction: 600, Grant: 600, Session: 600 },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    async findAccount(_ctx: unknown, sub: string) {
      const u = users[sub];
      return u ? { accountId: sub, claims: async () => ({ sub, name: u.name, groups: u.groups }) } : undefined;
    },
    // The company IdP consents for its own application: the console gets the scopes it asked for.
    async loadExistingGrant(ctx: any) {
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope(SCOPE);
      await grant.save();
      return grant;
    },
  });
  const callback = provider.callback();
  handler = (req, res) => {
    const m = /^\/interaction\/([\w-]+)$/.exec(req.url ?? '');
    if (!m) return callback(req, res);
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><title>Test IdP</title><form method="post" action="/interaction/${m[1]}"><label>User <input name="login" autofocus></label><button type="submit">Sign in</button></form>`);
      return;
    }
    void body(req).then(async (form) => {
      const id = form.get('login') ?? '';
      const u = users[id];
      const result = u ? { login: { accountId: id, amr: u.amr, ...(u.acr ? { acr: u.acr } : {}) } } : { error: 'access_denied', error_description: 'unknown user' };
      await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
    }).catch((e: unknown) => res.writeHead(500).end(String(e)));
  };

  return {
    issuer, clientId, clientSecret, certPath: cert.cert,
    close: () => new Promise<void>((ok) => { server.closeAllConnections(); server.close(() => ok()); }),
  };
}
