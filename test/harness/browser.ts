// A real browser for the console tests (issue 16: Debian's chromium through playwright-core), and
// the two things every browser test does: open a page that records Content-Security-Policy
// violations, and sign in with a token as a user would.
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { testCerts } from './certs.ts';

/** The viewport of a laptop screen (issue 16: "readable on a laptop screen"). */
export const LAPTOP = { width: 1366, height: 860 } as const;

/**
 * The browser trusts exactly the test server's key: --ignore-certificate-errors-spki-list pins the
 * SHA-256 of the gateway certificate's public key (SPKI), so chromium still verifies the TLS
 * handshake against a known key instead of skipping verification (no ignoreHTTPSErrors).
 */
export async function spkiPin(): Promise<string> {
  const c = await testCerts();
  const spki = new X509Certificate(readFileSync(c.cert('gateway'))).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

/** Headless chromium that trusts the gateway's pinned key and makes no network call of its own. */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run',
      `--ignore-certificate-errors-spki-list=${await spkiPin()}`],
  });
}

/** Pushes every CSP violation the page reports onto `into` (the console must run under its strict CSP). */
export function recordCspViolations(page: Page, into: string[]): void {
  page.on('console', (m) => { if (/Content.Security.Policy|Refused to/i.test(m.text())) into.push(m.text()); });
}

/** A fresh browser context (its own cookies: its own session) at laptop size, with one page. */
export async function newSession(browser: Browser, cspViolations: string[]): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: LAPTOP, acceptDownloads: true });
  const page = await context.newPage();
  recordCspViolations(page, cspViolations);
  return { context, page };
}

/** Signs in on the sign-in page with an admin or auditor token, starting from a page that needs a session. */
export async function signInWithToken(page: Page, adminUrl: string, token: string): Promise<void> {
  await page.goto(`${adminUrl}/console/overview`);
  assert.match(page.url(), /\/console\/sign-in$/, 'no session: the sign-in page');
  await page.getByLabel('Admin or auditor token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/console\/overview$/);
}
