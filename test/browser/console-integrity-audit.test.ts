// Issue 16 step 9 and pages 4 and 8, as a user in a real browser (Debian's chromium through
// playwright-core): runs verify and watches it finish ok, downloads the JWKS, pastes the
// Transfer-Receipt of a real pull and sees it valid, then opens the audit, filters it and expands
// an entry's before/after diff. Tagged by its name (console-integrity-audit) like console-browser;
// screenshots go to test-output/console/ (git-ignored).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, newSession, signInWithToken } from '../harness/browser.ts';
import { startStack, type Stack } from '../harness/stack.ts';
import { adminApi } from '../harness/admin.ts';
import { setupPartner, partnerGet, type TestPartner } from '../harness/partner.ts';

const SHOTS = join(import.meta.dirname, '..', '..', 'test-output', 'console');

let stack: Stack;
let browser: Browser;
let page: Page;
let partner: TestPartner;
let receipt: string;
const cspViolations: string[] = [];

const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  stack = await startStack({ users: 30, extra: { console: { tokenLogin: true } } });
  partner = await setupPartner(stack, { processingCountries: ['KZ'], purposes: { service_delivery: { categories: { phone: 'clear', username: 'clear' } } } });
  const token = await partner.token('service_delivery');
  const list = await partnerGet(stack, token, '/v1/subjects?purpose=service_delivery&limit=3');
  assert.equal(list.status, 200, list.text);
  const one = await partnerGet(stack, token, `/v1/subjects/${list.body.items[0].subject}?purpose=service_delivery`);
  assert.equal(one.status, 200, one.text);
  receipt = one.headers.get('transfer-receipt')!;
  assert.ok(receipt, 'the pull carries a Transfer-Receipt');
  // An admin change with a before and an after, for the audit page.
  assert.equal((await adminApi(stack, stack.adminToken)('POST', `/admin/v1/agreements/agr_${partner.id}/suspend`)).status, 200);
  await stack.gateway.deps.transferLog.checkpointNow();
  browser = await launchBrowser();
  ({ page } = await newSession(browser, cspViolations));
  await signInWithToken(page, stack.adminUrl, stack.adminToken);
});
after(async () => {
  await browser?.close();
  await stack?.close();
});

test('console-integrity-audit: runs verify (step 9) and sees it finish ok; the chains show their last checkpoint; the JWKS downloads', async () => {
  await page.getByRole('link', { name: 'Integrity' }).click();
  await page.waitForURL(/\/console\/integrity$/);
  await page.getByRole('heading', { level: 1, name: 'Integrity' }).waitFor();
  await page.getByRole('button', { name: 'Run verify' }).click();
  await page.locator('#verify-status', { hasText: 'Verified: the log is intact.' }).waitFor({ timeout: 15_000 });
  assert.equal(page.url(), `${stack.adminUrl}/console/integrity`, 'htmx swapped the status in; no page load');
  const chains = await page.getByRole('table').first().innerText();
  const st = await stack.gateway.deps.transferLog.status();
  assert.ok(st.chains.every((c) => c.checkpoint && chains.includes(c.chain) && chains.includes(c.checkpoint.hash)), chains);
  await page.reload(); // the anchors file's status comes from the last run
  assert.match(await page.locator('.facts').first().innerText(), /ok: \d+ lines agree with Redis/);
  await shot('integrity-verified');
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download the JWKS' }).click()]);
  const jwks = JSON.parse(readFileSync((await download.path())!, 'utf8'));
  assert.deepEqual(jwks, stack.gateway.deps.transferLog.jwks);
});

test('console-integrity-audit: pastes the receipt of a real pull and sees it valid', async () => {
  await page.getByLabel(/^Receipt/).fill(receipt);
  await page.getByRole('button', { name: 'Check receipt' }).click();
  const result = page.locator('#receipt-result');
  await result.waitFor();
  assert.match(await result.innerText(), /Receipt valid\./);
  assert.match(await result.innerText(), new RegExp(partner.id));
  await result.scrollIntoViewIfNeeded();
  await shot('integrity-receipt');
});

test('console-integrity-audit: opens the audit, filters by action and expands an entry to its before/after diff', async () => {
  await page.getByRole('link', { name: 'Audit' }).click();
  await page.waitForURL(/\/console\/audit$/);
  await page.getByLabel('Action (or its start)').fill('agreement.');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.waitForURL(/action=agreement\./);
  const first = page.locator('.audit-entry').first();
  await first.locator('summary').click();
  const diff = first.locator('table.diff');
  await diff.waitFor();
  const changed = diff.locator('tr.changed');
  assert.ok((await changed.count()) >= 1);
  assert.match(await diff.locator('tr.changed', { hasText: 'status' }).innerText(), /status\s+changed\s+active\s+suspended/);
  await shot('audit-diff');
  assert.deepEqual(cspViolations, [], 'no Content-Security-Policy violation');
});
