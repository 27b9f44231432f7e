// Issue 16 / RULES 43: staff single sign-on against a REAL local IdP (oidc-provider over HTTPS on the
// test CA). The flow is driven by hand with undici, as a browser would: redirects followed one by
// one, cookies carried per site, the IdP's login form posted. alice (MFA, admin group) gets an
// admin session; bob (no MFA) and carol (no mapped group) are refused with a page that says why; a
// tampered state is refused. One IdP and one stack for the file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fetch } from 'undici';
import { startStack, testConfig, type Stack } from './harness/stack.ts';
import { startTestIdp, type TestIdp } from './harness/oidc-idp.ts';
import { testCerts, tmp } from './harness/certs.ts';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createOidcSignIn } from '../src/console/oidc-client.ts';
import { freePort } from '../src/dev/local-redis.ts';
import { readAudit } from '../src/auth/admin-audit.ts';
import { ConfigError } from '../src/config/load.ts';
import { decideStaff } from '../src/console/oidc-claims.ts';

// The console's private_key_jwt key: the IdP holds the public half, the gateway reads the private JWK file.
const JWT_KEY = (() => {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const meta = { kid: 'console-1', alg: 'ES256', use: 'sig' };
  const path = join(tmp('oidc-jwk'), 'console.jwk');
  writeFileSync(path, JSON.stringify({ ...privateKey.export({ format: 'jwk' }), ...meta }), { mode: 0o600 });
  return { path, publicJwk: { ...publicKey.export({ format: 'jwk' }), ...meta } };
})();

let stack: Stack;
let idp: TestIdp;
let redirectUri: string;

const USERS = {
  alice: { name: 'Alice Admin', groups: ['staff', 'pg-admins'], amr: ['pwd', 'mfa'] },
  bob: { name: 'Bob NoMfa', groups: ['pg-admins'], amr: ['pwd'] },
  carol: { name: 'Carol NoGroup', groups: ['staff'], amr: ['pwd', 'mfa'] },
  dave: { name: 'Dave Auditor', groups: ['pg-auditors'], amr: ['pwd', 'mfa'] },
};
const POLICY = { requireAmr: ['mfa'], requireAcr: [], rolesClaim: 'groups', roles: { 'pg-admins': 'admin', 'pg-auditors': 'auditor' } } as const;

before(async () => {
  const adminPort = await freePort();
  redirectUri = `https://localhost:${adminPort}/console/oidc/callback`;
  idp = await startTestIdp(USERS, redirectUri, [{
    client_id: 'pg-console-jwt', redirect_uris: [redirectUri], grant_types: ['authorization_code'], response_types: ['code'],
    token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [JWT_KEY.publicJwk] },
  }]);
  const c = await testCerts();
  stack = await startStack({
    users: 5,
    extra: {
      admin: { port: adminPort },
      console: {
        tokenLogin: false,
        oidc: {
          issuer: idp.issuer, name: 'Test IdP', clientId: idp.clientId, clientSecret: idp.clientSecret, redirectUri, ca: c.ca,
          scopes: ['openid', 'profile', 'groups'], roles: POLICY.roles,
        },
      },
    },
  });
});
after(async () => {
  await stack.close();
  await idp.close();
});

/** Cookies per origin, as a browser keeps them (name=value only; enough for these flows). */
class Jar {
  private readonly bySite = new Map<string, Map<string, string>>();
  header(url: URL): string {
    return [...(this.bySite.get(url.origin) ?? new Map()).entries()].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  take(url: URL, setCookies: string[]): void {
    const site = this.bySite.get(url.origin) ?? new Map<string, string>();
    for (const sc of setCookies) {
      const [pair] = sc.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      if (/max-age=0/i.test(sc) || /expires=Thu, 01 Jan 1970/i.test(sc)) site.delete(name);
      else site.set(name, pair!.slice(eq + 1).trim());
    }
    this.bySite.set(url.origin, site);
  }
  get(origin: string, name: string): string | undefined {
    return this.bySite.get(origin)?.get(name);
  }
}

interface Hop { status: number; url: URL; text: string; location: string | null }

async function go(jar: Jar, href: string, init: { method?: string; form?: Record<string, string>; origin?: string } = {}): Promise<Hop> {
  const url = new URL(href);
  const headers: Record<string, string> = { cookie: jar.header(url) };
  if (init.form) headers['content-type'] = 'application/x-www-form-urlencoded';
  if (init.origin) headers.origin = init.origin;
  const res = await fetch(url, { method: init.method ?? 'GET', headers, redirect: 'manual', dispatcher: stack.client, ...(init.form ? { body: new URLSearchParams(init.form).toString() } : {}) });
  jar.take(url, res.headers.getSetCookie());
  const location = res.headers.get('location');
  return { status: res.status, url, text: await res.text(), location: location ? new URL(location, url).href : null };
}

/** Follow redirects by hand until a page (non-3xx) or, with `stopAtCallback`, the console's callback URL. */
async function follow(jar: Jar, hop: Hop, stopAtCallback = false): Promise<Hop> {
  for (let i = 0; i < 15 && hop.status >= 300 && hop.status < 400 && hop.location; i++) {
    if (stopAtCallback && hop.location.startsWith(redirectUri)) return hop;
    hop = await go(jar, hop.location);
  }
  return hop;
}

/** Start SSO at the console and sign in at the IdP as `user`; returns the redirect to the callback (not yet followed). */
async function throughIdp(jar: Jar, user: string): Promise<Hop> {
  const start = await go(jar, `${stack.adminUrl}/console/oidc/start`);
  assert.equal(start.status, 303, start.text);
  assert.ok(start.location!.startsWith(`${idp.issuer}/auth?`), start.location!);
  const auth = new URL(start.location!);
  assert.equal(auth.searchParams.get('code_challenge_method'), 'S256');
  for (const p of ['state', 'nonce', 'code_challenge']) assert.ok((auth.searchParams.get(p) ?? '').length >= 43, `${p} is random and long`);
  const login = await follow(jar, start);
  assert.equal(login.status, 200, login.text);
  const action = /action="([^"]+)"/.exec(login.text)?.[1];
  assert.ok(action, 'the IdP shows its login form');
  const posted = await go(jar, new URL(action, login.url).href, { method: 'POST', form: { login: user } });
  const back = await follow(jar, posted, true);
  assert.ok(back.location?.startsWith(`${redirectUri}?`), `the IdP sends the browser back with a code: ${back.status} ${back.location}`);
  return back;
}

async function signInAs(user: string): Promise<{ jar: Jar; page: Hop }> {
  const jar = new Jar();
  const back = await throughIdp(jar, user);
  return { jar, page: await go(jar, back.location!) };
}

test('the sign-in page offers "Sign in with Test IdP" and, with console.tokenLogin off, no token form', async () => {
  const r = await go(new Jar(), `${stack.adminUrl}/console/sign-in`);
  assert.equal(r.status, 200);
  assert.match(r.text, /<a href="\/console\/oidc\/start"[^>]*>Sign in with Test IdP<\/a>/);
  assert.doesNotMatch(r.text, /name="token"/);
});

test('alice (MFA, pg-admins) gets an admin session: her name in the header, her sub in the audit of an action', async () => {
  const { jar, page } = await signInAs('alice');
  assert.equal(page.status, 200, page.text);
  assert.match(page.text, /Signed in as <strong>Alice Admin<\/strong> \(admin\)/);
  assert.match(page.text, /<meta http-equiv="refresh" content="0;url=\/console\/overview">/);
  assert.equal(jar.get(stack.adminUrl, '__Host-pg-console-oidc'), undefined, 'the flow cookie is cleared');
  assert.ok(jar.get(stack.adminUrl, '__Host-pg-console'), 'a session cookie is set');

  const partners = await go(jar, `${stack.adminUrl}/console/partners`);
  assert.equal(partners.status, 200, partners.text);
  assert.match(partners.text, /Alice Admin <small>\(admin\)<\/small>/);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(partners.text)?.[1] ?? '';
  const created = await go(jar, `${stack.adminUrl}/console/partners`, { method: 'POST', origin: stack.adminUrl, form: { _csrf: csrf, id: 'p-oidc', name: 'SSO Partner', contactEmail: 'dpo@sso.example' } });
  assert.equal(created.status, 303, created.text);

  const { items } = await readAudit(stack.gateway.deps.redis, 50);
  const signIn = items.find((e) => e.action === 'console.sign_in' && e.actor.tokenId === 'alice');
  assert.ok(signIn, 'the sign-in is audited with her sub');
  assert.deepEqual((signIn.after as { staff: unknown }).staff, { id: 'alice', name: 'Alice Admin', role: 'admin', signIn: 'oidc' });
  const create = items.find((e) => e.target === 'p-oidc' || JSON.stringify(e.after ?? '').includes('p-oidc'));
  assert.ok(create, 'the partner registration is in the admin audit');
  assert.deepEqual(create.actor, { tokenId: 'alice', role: 'admin' });
});

test('dave (MFA, pg-auditors) gets an auditor session: no write control, and a forged write is 403', async () => {
  const { jar, page } = await signInAs('dave');
  assert.equal(page.status, 200, page.text);
  const partners = await go(jar, `${stack.adminUrl}/console/partners`);
  assert.match(partners.text, /Dave Auditor <small>\(auditor\)<\/small>/);
  assert.doesNotMatch(partners.text, /Register partner/);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(partners.text)?.[1] ?? '';
  const forged = await go(jar, `${stack.adminUrl}/console/partners`, { method: 'POST', origin: stack.adminUrl, form: { _csrf: csrf, name: 'X', contactEmail: 'x@x.example' } });
  assert.equal(forged.status, 403);
});

test('bob (no MFA) is refused with a page naming MFA, and no session is opened', async () => {
  const { jar, page } = await signInAs('bob');
  assert.equal(page.status, 403, page.text);
  assert.match(page.text, /data-reason="mfa_required"/);
  assert.match(page.text, /multi-factor authentication \(MFA\)/);
  assert.equal(jar.get(stack.adminUrl, '__Host-pg-console'), undefined);
  assert.ok(stack.logs.lines.some((l) => l.includes('"reason":"mfa_required"') && l.includes('"staffSub":"bob"')), 'the refusal is logged with its code');
});

test('carol (MFA, no mapped group) is refused with a page naming the missing role', async () => {
  const { jar, page } = await signInAs('carol');
  assert.equal(page.status, 403, page.text);
  assert.match(page.text, /data-reason="no_role"/);
  assert.match(page.text, /no console role/);
  assert.equal(jar.get(stack.adminUrl, '__Host-pg-console'), undefined);
});

test('a sign-in the IdP refuses (an unknown user: access_denied) comes back as a refusal page, not a session', async () => {
  const { jar, page } = await signInAs('mallory');
  assert.equal(page.status, 403, page.text);
  assert.match(page.text, /data-reason="idp_error"/);
  assert.match(page.text, /The identity provider did not sign you in/);
  assert.equal(jar.get(stack.adminUrl, '__Host-pg-console'), undefined);
});

test('a tampered state is refused, and the flow cannot be replayed with the right one afterwards', async () => {
  const jar = new Jar();
  const back = await throughIdp(jar, 'alice');
  const tampered = new URL(back.location!);
  tampered.searchParams.set('state', `${tampered.searchParams.get('state')}x`);
  const r = await go(jar, tampered.href);
  assert.equal(r.status, 403, r.text);
  assert.match(r.text, /data-reason="response_mismatch"/);
  assert.equal(jar.get(stack.adminUrl, '__Host-pg-console'), undefined);
  const replay = await go(jar, back.location!);
  assert.equal(replay.status, 400, 'the flow was used up by the first callback');
  assert.match(replay.text, /data-reason="flow_unknown"/);
});

test('a callback without the flow cookie of the browser that started it is refused (login CSRF)', async () => {
  const jar = new Jar();
  const back = await throughIdp(jar, 'alice');
  const other = await go(new Jar(), back.location!);
  assert.equal(other.status, 400);
  assert.match(other.text, /data-reason="flow_unknown"/);
  assert.equal(await stack.gateway.deps.redis.keys('pg:console:oidc:*').then((k) => k.length >= 1), true, 'the real browser\'s flow is still pending');
});

test('an OIDC session (no admin token behind it) serves pages and ends at sign-out', async () => {
  const { jar } = await signInAs('alice');
  const over = await go(jar, `${stack.adminUrl}/console/overview`);
  assert.equal(over.status, 200);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(over.text)?.[1] ?? '';
  const out = await go(jar, `${stack.adminUrl}/console/sign-out`, { method: 'POST', origin: stack.adminUrl, form: { _csrf: csrf } });
  assert.equal(out.status, 303);
  const after = await go(jar, `${stack.adminUrl}/console/overview`);
  assert.equal(after.status, 303);
});

test('decideStaff: MFA by amr or acr, admin wins over auditor, unknown groups map to nothing', () => {
  const base = { sub: 's1', name: 'N', amr: ['mfa'], groups: ['pg-auditors', 'pg-admins'] };
  assert.deepEqual(decideStaff(base, POLICY), { staff: { id: 's1', name: 'N', role: 'admin', via: 'oidc' } });
  assert.equal((decideStaff({ ...base, amr: 'pwd' }, POLICY) as { refused: string }).refused, 'mfa_required');
  assert.equal((decideStaff({ ...base, groups: ['toString', '__proto__', 'hasOwnProperty'] }, POLICY) as { refused: string }).refused, 'no_role');
  assert.deepEqual(decideStaff({ ...base, groups: 'pg-auditors' }, POLICY), { staff: { id: 's1', name: 'N', role: 'auditor', via: 'oidc' } });
  const acr = { ...POLICY, requireAmr: [], requireAcr: ['urn:mfa'] };
  assert.ok('staff' in decideStaff({ ...base, amr: [], acr: 'urn:mfa' }, acr));
  assert.equal((decideStaff({ ...base, acr: 'urn:pwd' }, acr) as { refused: string }).refused, 'mfa_required');
});

test('console.oidc is validated at start, naming the key', async () => {
  const bad = async (oidc: object, key: RegExp) => {
    await assert.rejects(testConfig({ extra: { console: { oidc: { issuer: 'https://idp.example', clientId: 'c', clientSecret: 's', redirectUri: 'https://cp.example/console/oidc/callback', roles: { g: 'admin' }, ...oidc } } } }), (e: unknown) => {
      assert.ok(e instanceof ConfigError, String(e));
      assert.match(e.message, key);
      return true;
    });
  };
  await bad({ issuer: 'http://idp.example' }, /^console\.oidc\.issuer must be an https:\/\/ URL/);
  await bad({ redirectUri: 'http://cp.example/console/oidc/callback' }, /^console\.oidc\.redirectUri must be an https:\/\/ URL/);
  await bad({ redirectUri: 'https://cp.example/elsewhere' }, /^console\.oidc\.redirectUri must end in the path \/console\/oidc\/callback/);
  await bad({ privateKeyJwk: '/tmp/key.jwk' }, /^console\.oidc\.clientSecret exactly one of console\.oidc\.clientSecret and console\.oidc\.privateKeyJwk/);
  await bad({ clientSecret: null }, /^console\.oidc\.clientSecret exactly one of/);
  await bad({ requireAmr: [] }, /^console\.oidc\.requireAmr MFA is required/);
  await bad({ roles: { g: 'root' } }, /^console\.oidc\.roles\.g /);
  await bad({ clientId: null }, /^console\.oidc\.clientId is required/);
});

test('private_key_jwt: the client authenticates to the IdP with the key in console.oidc.privateKeyJwk', async () => {
  const signIn = createOidcSignIn({ ...stack.config.console.oidc, clientId: 'pg-console-jwt', clientSecret: null, privateKeyJwk: JWT_KEY.path });
  const { flow, url } = await signIn.start();
  const jar = new Jar();
  const login = await follow(jar, await go(jar, url));
  const action = /action="([^"]+)"/.exec(login.text)?.[1];
  const back = await follow(jar, await go(jar, new URL(action!, login.url).href, { method: 'POST', form: { login: 'alice' } }), true);
  assert.ok(back.location?.startsWith(`${redirectUri}?`), String(back.location));
  const claims = await signIn.finish(new URL(back.location!).search, flow);
  assert.equal(claims.sub, 'alice');
  assert.deepEqual(claims.amr, ['pwd', 'mfa']);
  assert.deepEqual(claims.groups, ['staff', 'pg-admins'], 'groups from userinfo');
  assert.throws(() => createOidcSignIn({ ...stack.config.console.oidc, clientSecret: null, privateKeyJwk: '/nonexistent/console.jwk' }), (e: unknown) => e instanceof ConfigError && /^console\.oidc\.privateKeyJwk: cannot read/.test(e.message));
  const publicOnly = join(tmp('oidc-jwk'), 'public.jwk');
  writeFileSync(publicOnly, JSON.stringify(JWT_KEY.publicJwk));
  assert.throws(() => createOidcSignIn({ ...stack.config.console.oidc, clientSecret: null, privateKeyJwk: publicOnly }), (e: unknown) => e instanceof ConfigError && /^console\.oidc\.privateKeyJwk: not a private JWK/.test(e.message));
});

test('the IdP\'s certificate is verified: without the CA that signed it, single sign-on cannot start', async () => {
  const signIn = createOidcSignIn({ ...stack.config.console.oidc, ca: null });
  await assert.rejects(signIn.start(), (e: unknown) => {
    const code = String((e as { cause?: { code?: unknown } }).cause?.code);
    assert.match(code, /UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT|SELF_SIGNED|CERT/, code);
    return true;
  });
});

// Last in the file: it spends this address's sign-in starts for the minute.
test('starting single sign-on is bounded: past 30 starts a minute from one address it is 429 and writes no flow', async () => {
  const start = () => go(new Jar(), `${stack.adminUrl}/console/oidc/start`);
  let hop = await start();
  for (let n = 1; hop.status === 303 && n <= 31; n++) hop = await start();
  assert.equal(hop.status, 429, hop.text);
  assert.match(hop.text, /Too many sign-ins/);
  const flows = async () => (await stack.gateway.deps.redis.keys('pg:console:oidc:*')).length;
  const before = await flows();
  assert.equal((await start()).status, 429);
  assert.equal(await flows(), before, 'a refused start writes nothing to Redis');
});
