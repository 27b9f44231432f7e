// Issue 16 / RULES 43, in a real browser (Debian's chromium through playwright-core): staff single
// sign-on through a real local IdP (oidc-provider over HTTPS on the test CA). alice (MFA, admin group)
// clicks "Sign in with Test IdP", signs in at the IdP and lands on the overview with her name in the
// header — which proves the SameSite=Strict session cookie reaches the first page after the IdP's
// cross-site redirect; bob (no MFA) sees the refusal page. Screenshots go to test-output/console/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startStack, type Stack } from '../harness/stack.ts';
import { startTestIdp, type TestIdp } from '../harness/oidc-idp.ts';
import { testCerts } from '../harness/certs.ts';
import { freePort } from '../../src/dev/local-redis.ts';

const SHOTS = join(import.meta.dirname, '..', '..', 'test-output', 'console');

let stack: Stack;
let idp: TestIdp;
let browser: Browser;

/** Chromium verifies TLS against exactly these keys (SPKI pins), never skipping verification. */
const spki = (certPath: string) => createHash('sha256').update(new X509Certificate(readFileSync(certPath)).publicKey.export({ type: 'spki', format: 'der' })).digest('base64');

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  const adminPort = await freePort();
  const redirectUri = `https://localhost:${adminPort}/console/oidc/callback`;
  idp = await startTestIdp({
    alice: { name: 'Alice Admin', groups: ['pg-admins'], amr: ['pwd', 'mfa'] },
    bob: { name: 'Bob NoMfa', groups: ['pg-admins'], amr: ['pwd'] },
  }, redirectUri);
  const c = await testCerts();
  stack = await startStack({
    users: 5,
    extra: {
      admin: { port: adminPort },
      console: {
        tokenLogin: false,
        oidc: { issuer: idp.issuer, name: 'Test IdP', clientId: idp.clientId, clientSecret: idp.clientSecret, redirectUri, ca: c.ca, scopes: ['openid', 'profile', 'groups'], roles: { 'pg-admins': 'admin' } },
      },
    },
  });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run',
      `--ignore-certificate-errors-spki-list=${spki(c.cert('gateway'))},${spki(idp.certPath)}`],
  });
});
after(async () => {
  await browser?.close();
  await stack?.close();
  await idp?.close();
});

async function throughIdp(page: Page, user: string): Promise<void> {
  await page.goto(`${stack.adminUrl}/console/overview`);
  assert.match(page.url(), /\/console\/sign-in$/);
  await page.getByRole('button', { name: 'Sign in with Test IdP' }).click();
  await page.waitForURL((u) => u.href.startsWith(`${idp.issuer}/interaction/`));
  await page.getByLabel('User').fill(user);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

test('console-oidc: alice signs in through the IdP and lands on the overview with her name; bob is refused for MFA', async () => {
  const context = await browser.newContext({ viewport: { width: 1366, height: 860 } });
  try {
    const page = await context.newPage();
    await page.goto(`${stack.adminUrl}/console/sign-in`);
    await page.screenshot({ path: join(SHOTS, 'oidc-sign-in.png'), fullPage: true });
    await throughIdp(page, 'alice');
    await page.waitForURL(/\/console\/overview$/);
    await assert.doesNotReject(page.getByText('Alice Admin (admin)').waitFor(), 'her name and role in the header');
    await page.screenshot({ path: join(SHOTS, 'oidc-overview.png'), fullPage: true });

    const other = await browser.newContext({ viewport: { width: 1366, height: 860 } });
    const bob = await other.newPage();
    await throughIdp(bob, 'bob');
    await bob.waitForURL(/\/console\/oidc\/callback/);
    await bob.getByRole('heading', { name: 'Sign-in refused' }).waitFor();
    assert.match(await bob.getByRole('alert').innerText(), /multi-factor authentication \(MFA\)/);
    await bob.screenshot({ path: join(SHOTS, 'oidc-refused.png'), fullPage: true });
    await other.close();
  } finally {
    await context.close();
  }
});
