// Issue 16, the console's foundation without a browser: token sign-in, the session cookie and its
// storage, timeouts, sign-out, revocation, CSRF and Origin checks, the auditor's refused writes,
// the CSP and the assets. One stack; real TLS Redis and HTTPS throughout.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fetch } from 'undici';
import { startStack, type Stack } from './harness/stack.ts';
import { adminApi, type Api } from './harness/admin.ts';
import { ConsoleSessions, sessionKey, type Staff } from '../src/console/sessions.ts';
import { readAudit } from '../src/auth/admin-audit.ts';

let stack: Stack;
let api: Api;
let origin: string;

before(async () => {
  stack = await startStack({ users: 5, extra: { console: { tokenLogin: true } } });
  api = adminApi(stack, stack.adminToken);
  origin = stack.adminUrl;
});
after(() => stack.close());

interface Reply { status: number; text: string; headers: Headers; location: string | null }

async function req(method: string, path: string, o: { cookie?: string; form?: Record<string, string>; headers?: Record<string, string>; origin?: string | null } = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...o.headers };
  if (o.cookie) headers.cookie = o.cookie;
  if (o.form) headers['content-type'] = 'application/x-www-form-urlencoded';
  if (method === 'POST' && o.origin !== null) headers.origin = o.origin ?? origin;
  const res = await fetch(`${stack.adminUrl}${path}`, {
    method, headers, redirect: 'manual', dispatcher: stack.client,
    ...(o.form ? { body: new URLSearchParams(o.form).toString() } : {}),
  });
  return { status: res.status, text: await res.text(), headers: res.headers as unknown as Headers, location: res.headers.get('location') };
}

async function mint(role: string): Promise<{ id: string; token: string }> {
  const r = await api('POST', '/admin/v1/tokens', { body: { role } });
  assert.equal(r.status, 201, r.text);
  return r.body;
}

/** Sign in; the cookie pair to send back and the page's CSRF token. */
async function signIn(token: string): Promise<{ cookie: string; id: string; csrf: string; setCookie: string }> {
  const r = await req('POST', '/console/sign-in', { form: { token } });
  assert.equal(r.status, 303, r.text);
  assert.equal(r.location, '/console/overview');
  const setCookie = r.headers.get('set-cookie') ?? '';
  const id = /__Host-pg-console=([^;]+)/.exec(setCookie)?.[1] ?? '';
  const cookie = `__Host-pg-console=${id}`;
  const page = await req('GET', '/console/transfers', { cookie });
  assert.equal(page.status, 200, page.text);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1] ?? '';
  assert.ok(csrf.length >= 43, 'the page carries a CSRF token');
  return { cookie, id, csrf, setCookie };
}

test('token sign-in sets a __Host- cookie (HttpOnly, Secure, SameSite=Strict, Path=/) whose id Redis never holds', async () => {
  const s = await signIn(stack.adminToken);
  assert.match(s.setCookie, /^__Host-pg-console=[A-Za-z0-9_-]{43}; /);
  for (const flag of ['Path=/', 'Secure', 'HttpOnly', 'SameSite=Strict']) assert.ok(s.setCookie.split('; ').includes(flag), `${flag} in ${s.setCookie}`);
  assert.doesNotMatch(s.setCookie, /Domain=/i);
  const redis = stack.gateway.deps.redis;
  const keys = await redis.keys('pg:console:session:*');
  assert.ok(keys.length >= 1);
  for (const k of keys) {
    assert.ok(!k.includes(s.id), 'the key is a keyed hash of the id, not the id');
    const rec = await redis.hGetAll(k);
    assert.ok(Object.values(rec).every((v) => !v.includes(s.id)), 'no field holds the id');
    assert.ok(!JSON.stringify(rec).includes(stack.adminToken), 'nor the token');
  }
  const overview = await req('GET', '/console/overview', { cookie: s.cookie });
  assert.equal(overview.status, 200);
  assert.match(overview.text, /tok_bootstrap/);
});

test('without a session a page redirects to sign-in; a wrong token or a core_store token cannot sign in', async () => {
  const page = await req('GET', '/console/overview');
  assert.equal(page.status, 303);
  assert.equal(page.location, '/console/sign-in');
  const forged = await req('GET', '/console/overview', { cookie: '__Host-pg-console=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' });
  assert.equal(forged.status, 303);
  const wrong = await req('POST', '/console/sign-in', { form: { token: `pga_${'x'.repeat(43)}` } });
  assert.equal(wrong.status, 401);
  assert.match(wrong.text, /unknown, expired or revoked/);
  assert.equal(wrong.headers.get('set-cookie'), null);
  const core = await mint('core_store');
  const refused = await req('POST', '/console/sign-in', { form: { token: core.token } });
  assert.equal(refused.status, 401);
  assert.doesNotMatch(refused.text, new RegExp(core.token), 'the token is not echoed');
});

test('RULES 43: the console is served on the control-plane listener only; the partner listener answers 404', async () => {
  for (const path of ['/console/sign-in', '/console/overview', '/console/assets/x.js']) {
    const r = await fetch(`${stack.url}${path}`, { dispatcher: stack.client, redirect: 'manual' });
    assert.equal(r.status, 404, path);
    assert.match(r.headers.get('content-type') ?? '', /problem\+json/);
    await r.text();
  }
  assert.equal((await req('GET', '/console/sign-in')).status, 200);
});

test('console pages carry a strict CSP (self only, no inline script or style) and no-store; assets are immutable', async () => {
  const page = await req('GET', '/console/sign-in');
  assert.equal(page.status, 200);
  const csp = page.headers.get('content-security-policy') ?? '';
  for (const d of ["default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'"]) assert.ok(csp.includes(d), `${d} in ${csp}`);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https:|\*/);
  assert.equal(page.headers.get('cache-control'), 'no-store');
  // With helmet's no-referrer a browser sends `Origin: null` on a form POST and the Origin check refuses every sign-in.
  assert.equal(page.headers.get('referrer-policy'), 'same-origin');
  assert.match(page.headers.get('strict-transport-security') ?? '', /max-age=63072000/);
  const srcs = [...page.text.matchAll(/(?:src|href)="(\/console\/assets\/[^"]+)"/g)].map((m) => m[1]!);
  assert.ok(srcs.some((s) => /htmx-2\.\d+\.\d+\.min\.js$/.test(s)) && srcs.some((s) => /pico\.classless-/.test(s)) && srcs.some((s) => /console-[0-9a-f]{16}\.js$/.test(s)), srcs.join());
  assert.doesNotMatch(page.text, /<script>|<style|style="| on[a-z]+="/i, 'nothing inline');
  for (const src of srcs) {
    const a = await req('GET', src);
    assert.equal(a.status, 200, src);
    assert.equal(a.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.match(a.headers.get('content-type') ?? '', /^text\/(javascript|css)/);
  }
  assert.equal((await req('GET', '/console/assets/nope.js')).status, 404);
});

test('every POST needs the console\'s own Origin and the session\'s CSRF token (403 page otherwise); with both, sign-out ends the session', async () => {
  const s = await signIn(stack.adminToken);
  const noOrigin = await req('POST', '/console/sign-out', { cookie: s.cookie, form: { _csrf: s.csrf }, origin: null });
  assert.equal(noOrigin.status, 403);
  assert.match(noOrigin.text, /own origin/);
  const foreign = await req('POST', '/console/sign-out', { cookie: s.cookie, form: { _csrf: s.csrf }, origin: 'https://evil.example' });
  assert.equal(foreign.status, 403);
  const foreignSignIn = await req('POST', '/console/sign-in', { form: { token: stack.adminToken }, origin: 'https://evil.example' });
  assert.equal(foreignSignIn.status, 403, 'sign-in too');
  const noToken = await req('POST', '/console/sign-out', { cookie: s.cookie, form: {} });
  assert.equal(noToken.status, 403);
  assert.match(noToken.text, /security token/);
  const wrongToken = await req('POST', '/console/sign-out', { cookie: s.cookie, form: { _csrf: s.csrf.slice(0, -1) + (s.csrf.endsWith('A') ? 'B' : 'A') } });
  assert.equal(wrongToken.status, 403);
  assert.equal((await req('GET', '/console/overview', { cookie: s.cookie })).status, 200, 'the refused POSTs changed nothing');
  const out = await req('POST', '/console/sign-out', { cookie: s.cookie, headers: { 'x-csrf-token': s.csrf } });
  assert.equal(out.status, 303);
  assert.equal(out.location, '/console/sign-in');
  assert.match(out.headers.get('set-cookie') ?? '', /__Host-pg-console=; .*Max-Age=0/);
  const after = await req('GET', '/console/overview', { cookie: s.cookie });
  assert.equal(after.status, 303, 'the session is gone from Redis');
});

test('an admin registers a partner (a bad field is shown next to it), issues a credential whose secret is shown once, and revokes it', async () => {
  const s = await signIn(stack.adminToken);
  const id = `console-${process.pid}`;
  const bad = await req('POST', '/console/partners', { cookie: s.cookie, form: { _csrf: s.csrf, id, name: 'Console Partner', contactEmail: 'not-an-address' } });
  assert.equal(bad.status, 400);
  assert.match(bad.text, /<input name="contactEmail" type="email" value="not-an-address" aria-invalid="true" aria-describedby="contactEmail-error"><small class="field-error" id="contactEmail-error">must be an e-mail address<\/small>/);
  assert.match(bad.text, /name="name" type="text" value="Console Partner">/, 'the other values are kept');
  const ok = await req('POST', '/console/partners', { cookie: s.cookie, form: { _csrf: s.csrf, id, name: 'Console Partner', contactEmail: 'privacy@console.example' } });
  assert.equal(ok.status, 303, ok.text);
  const issued = await req('POST', `/console/partners/${id}/credentials`, { cookie: s.cookie, form: { _csrf: s.csrf } });
  assert.equal(issued.status, 201);
  assert.equal(issued.headers.get('cache-control'), 'no-store');
  const secret = /id="client-secret">([^<]+)</.exec(issued.text)?.[1] ?? '';
  const clientId = /<dt>Client id<\/dt><dd><code>(cid_[^<]+)</.exec(issued.text)?.[1] ?? '';
  assert.match(secret, /^[A-Za-z0-9_-]{43}$/);
  const list = await req('GET', '/console/partners', { cookie: s.cookie });
  assert.ok(list.text.includes(clientId) && !list.text.includes(secret), 'the secret is shown once only');
  const audit = (await readAudit(stack.gateway.deps.redis, 20)).items;
  const create = audit.find((e) => e.action === 'partner.create' && e.target === id);
  assert.deepEqual(create?.actor, { tokenId: 'tok_bootstrap', role: 'admin' }, 'the change is audited with the staff identity');
  const revoked = await req('POST', `/console/partners/${id}/credentials/${clientId}/revoke`, { cookie: s.cookie, form: { _csrf: s.csrf } });
  assert.equal(revoked.status, 303);
  assert.ok(!(await req('GET', '/console/partners', { cookie: s.cookie })).text.includes(clientId));
});

test('an auditor\'s session renders no write control, and a forged write is 403 even with a valid CSRF token and Origin', async () => {
  const aud = await mint('auditor');
  const s = await signIn(aud.token);
  for (const path of ['/console/partners', '/console/transfers', '/console/overview', '/console/live']) {
    const page = await req('GET', path, { cookie: s.cookie });
    assert.equal(page.status, 200, path);
    assert.match(page.text, /\(auditor\)/);
    const posts = [...page.text.matchAll(/<form method="post" action="([^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(posts, ['/console/sign-out'], `${path}: no write control but sign-out`);
  }
  const id = `aud-${process.pid}`;
  const forged = await req('POST', '/console/partners', { cookie: s.cookie, form: { _csrf: s.csrf, id, name: 'Forged', contactEmail: 'x@forged.example' } });
  assert.equal(forged.status, 403);
  assert.match(forged.text, /needs the admin role/);
  const partners = await api('GET', '/admin/v1/partners');
  assert.ok(!partners.body.items.some((p: { id: string }) => p.id === id), 'nothing was written');
  const admin = await signIn(stack.adminToken);
  await req('POST', '/console/partners', { cookie: admin.cookie, form: { _csrf: admin.csrf, id, name: 'Real', contactEmail: 'x@real.example' } });
  const issue = await req('POST', `/console/partners/${id}/credentials`, { cookie: s.cookie, form: { _csrf: s.csrf } });
  assert.equal(issue.status, 403);
  assert.equal((await api('GET', `/admin/v1/partners/${id}`)).body.clientIds.length, 0);
});

test('revoking the token ends its console sessions', async () => {
  const aud = await mint('auditor');
  const s = await signIn(aud.token);
  assert.equal((await api('DELETE', `/admin/v1/tokens/${aud.id}`)).status, 204);
  const page = await req('GET', '/console/overview', { cookie: s.cookie });
  assert.equal(page.status, 303);
  assert.equal(page.location, '/console/sign-in');
});

test('console actions land in the admin audit with the staff identity and role; log reads as \'transfer log read\'', async () => {
  const aud = await mint('auditor');
  const s = await signIn(aud.token);
  await req('GET', '/console/transfers?decision=denied&subject=u_000001', { cookie: s.cookie });
  const { items } = await readAudit(stack.gateway.deps.redis, 50);
  const signInEntry = items.find((e) => e.action === 'console.sign_in' && e.actor.tokenId === aud.id);
  assert.ok(signInEntry, 'sign-in audited');
  assert.equal(signInEntry.actor.role, 'auditor');
  assert.deepEqual((signInEntry.after as { staff: Staff }).staff, { id: aud.id, name: aud.id, role: 'auditor', signIn: 'token' });
  const read = items.find((e) => e.action === 'console.transfers.search' && (e.after as { filter: { decision?: string } }).filter.decision === 'denied' && e.actor.tokenId === aud.id);
  assert.ok(read, 'the search is audited');
  assert.ok(!JSON.stringify(read).includes('u_000001'), 'the subject only as its subjectRef');
  const line = stack.logs.lines.map((l) => JSON.parse(l)).findLast((l) => l.msg === 'transfer log read' && l.action === 'console.transfers.search' && l.actor?.tokenId === aud.id);
  assert.ok(line);
  assert.equal(line.filter.decision, 'denied');
  assert.ok(line.filter.subjectRef && !stack.logs.text().includes('u_000001'));
});

test('sessions end after the idle timeout and after the absolute timeout however busy (clock injected)', async () => {
  let now = Date.parse('2026-11-27T08:00:00Z');
  const sessions = new ConsoleSessions(stack.gateway.deps.redis, sessionKey(Buffer.alloc(32, 7)), { idleMs: 30 * 60_000, absoluteMs: 2 * 3_600_000 }, () => now);
  const staff: Staff = { id: 'tok_x', name: 'tok_x', role: 'admin', via: 'token' };
  const idle = await sessions.create(staff, null);
  now += 29 * 60_000;
  assert.ok(await sessions.get(idle.id), 'used within the idle time');
  now += 29 * 60_000;
  assert.ok(await sessions.get(idle.id), 'each use pushes the idle end out');
  now += 30 * 60_000;
  assert.equal(await sessions.get(idle.id), null, 'idle too long');
  assert.equal(await sessions.get(idle.id), null, 'and deleted');

  const busy = await sessions.create(staff, null);
  for (let i = 0; i < 7; i++) {
    now += 17 * 60_000; // 119 minutes in all, never idle
    assert.ok(await sessions.get(busy.id), `use ${i}`);
  }
  now += 2 * 60_000;
  assert.equal(await sessions.get(busy.id), null, 'past the absolute end however busy');
});

/** The console alone, over its own HTTPS listener on the stack's Redis and log (options the stack does not expose). */
async function standaloneConsole(over: { tokenLogin?: boolean; origin?: string; live?: { sessionCheckMs: number; pollMs: number } }) {
  const { consoleRouter } = await import('../src/console/router.ts');
  const { ApiDoc } = await import('../src/http/openapi.ts');
  const { createAdminServices } = await import('../src/agreements/admin-services.ts');
  const { createAdminHttpsServer, listen } = await import('../src/tls/server.ts');
  const express = (await import('express')).default;
  const deps = stack.gateway.deps;
  const admin = createAdminServices(deps);
  const { Reidentifications } = await import('../src/reidentification/requests.ts');
  const reidentifications = new Reidentifications(deps.redis, 600, { userIdOf: () => null, subjectRef: (u) => deps.transferLog.subjectRef(u) });
  const app = express();
  app.use(express.urlencoded({ extended: false }));
  app.use('/console', consoleRouter({
    redis: deps.redis, log: deps.log, config: { console: { ...deps.config.console, tokenLogin: over.tokenLogin ?? true, origin: over.origin ?? null } }, pseudonymMaster: deps.keys.pseudonymMaster,
    transferLog: deps.transferLog, tokens: admin.tokens, partnerExists: (id) => admin.partners.exists(id), partners: admin.partners, credentials: admin.credentials,
    cursors: { seal: () => '', open: () => ({ ok: false, reason: 'unused' }) }, ...(over.live ? { live: over.live } : {}),
    jurisdiction: deps.jurisdiction, incidents: { incidents: deps.incidents, overdue: (l) => deps.notices.overdue(l), reidentifications },
    partnerDetails: { partners: admin.partners, partnerKeys: deps.partnerKeys, agreements: deps.agreements, accessDenials: deps.accessDenials, notices: deps.notices },
  }, new ApiDoc('admin')));
  const server = createAdminHttpsServer({ ...stack.config.admin.tls, cert: stack.config.server.tls.cert, key: stack.config.server.tls.key }, app);
  const port = await listen(server, 0, '127.0.0.1');
  return { url: `https://localhost:${port}`, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

test('token sign-in is refused when console.tokenLogin is off (the default)', async () => {
  const c = await standaloneConsole({ tokenLogin: false });
  try {
    const page = await fetch(`${c.url}/console/sign-in`, { dispatcher: stack.client });
    assert.match(await page.text(), /Token sign-in is turned off/);
    const r = await fetch(`${c.url}/console/sign-in`, {
      method: 'POST', dispatcher: stack.client, redirect: 'manual',
      headers: { origin: c.url, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: stack.adminToken }).toString(),
    });
    assert.equal(r.status, 403);
    assert.equal(r.headers.get('set-cookie'), null);
    await r.text();
  } finally {
    await c.close();
  }
});

test('a live stream stops sending once its session ends (here: the token is revoked) with a signed-out event', { timeout: 15_000 }, async () => {
  const c = await standaloneConsole({ live: { sessionCheckMs: 100, pollMs: 100 } });
  try {
    const aud = await mint('auditor');
    const signedIn = await fetch(`${c.url}/console/sign-in`, {
      method: 'POST', dispatcher: stack.client, redirect: 'manual',
      headers: { origin: c.url, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: aud.token }).toString(),
    });
    assert.equal(signedIn.status, 303);
    await signedIn.text();
    const cookie = (signedIn.headers.get('set-cookie') ?? '').split(';')[0]!;
    const stream = await fetch(`${c.url}/console/live/stream`, { dispatcher: stack.client, headers: { cookie } });
    assert.equal(stream.status, 200);
    assert.match(stream.headers.get('content-type') ?? '', /^text\/event-stream/);
    assert.equal((await api('DELETE', `/admin/v1/tokens/${aud.id}`)).status, 204);
    // The body ends by itself (the test would hang on a stream that did not) with the event that closes EventSource.
    const body = await stream.text();
    assert.match(body, /event: signed-out\n/);
  } finally {
    await c.close();
  }
});

test('with console.origin set, a POST must come from that origin, not from whatever Host was reached', async () => {
  const c = await standaloneConsole({ origin: 'https://console.example.kz' });
  try {
    const post = async (origin: string) => {
      const r = await fetch(`${c.url}/console/sign-in`, {
        method: 'POST', dispatcher: stack.client, redirect: 'manual',
        headers: { origin, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: stack.adminToken }).toString(),
      });
      await r.text();
      return r.status;
    };
    assert.equal(await post(c.url), 403, 'the Host-derived origin no longer counts');
    assert.equal(await post('https://console.example.kz'), 303);
  } finally {
    await c.close();
  }
});

test('search pages through the log with the encrypted cursor, which is refused under another filter or when altered', async () => {
  const partnerId = `pages-${process.pid}`;
  await stack.gateway.deps.transferLog.appendMany(Array.from({ length: 60 }, (_, i) => ({
    requestId: `req-${i}`, partnerId, agreementId: `agr_${partnerId}`, agreementVersion: 1, purpose: 'advertising' as const, userId: `u_${i}`,
    decision: 'denied' as const, reason: 'consent_required', categories: [], destinationCountries: ['KZ'], legalBasis: 'consent' as const,
    crossBorderBasis: null, policyVersion: null, keyVersion: 1, tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', clientCertThumbprint: null }, deleteBy: null,
  })));
  const s = await signIn(stack.adminToken);
  const rows = (t: string) => [...t.matchAll(/<tr data-entry-id="([^"]+)"/g)].map((m) => m[1]);
  const first = await req('GET', `/console/transfers?partnerId=${partnerId}`, { cookie: s.cookie });
  assert.equal(rows(first.text).length, 50);
  const next = /<a href="(\/console\/transfers\?[^"]*cursor=[^"]+)">Older entries<\/a>/.exec(first.text)?.[1]?.replaceAll('&amp;', '&');
  assert.ok(next, 'a link to the older entries');
  const cursor = new URL(next, stack.adminUrl).searchParams.get('cursor')!;
  assert.doesNotMatch(cursor, /^\d+-\d+$/, 'the cursor is sealed, not a stream id');
  const second = await req('GET', next, { cookie: s.cookie });
  assert.equal(rows(second.text).length, 10);
  assert.deepEqual(rows(second.text).filter((id) => rows(first.text).includes(id)), [], 'no entry twice');
  const otherFilter = await req('GET', `/console/transfers?partnerId=${partnerId}&decision=denied&cursor=${cursor}`, { cookie: s.cookie });
  assert.equal(otherFilter.status, 400);
  assert.match(otherFilter.text, /expired or belongs to another filter/);
  const altered = await req('GET', `/console/transfers?partnerId=${partnerId}&cursor=${cursor.slice(0, -2)}${cursor.endsWith('AA') ? 'BB' : 'AA'}`, { cookie: s.cookie });
  assert.equal(altered.status, 400);
});
