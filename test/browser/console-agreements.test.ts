// Issue 16 steps 3-4 and page 6 in a real browser (Debian's chromium through playwright-core): an
// admin creates an agreement with a bad field and sees the inline error next to it, fixes it,
// saves a second version, compares the two side by side, and suspends behind a confirmation.
// Screenshots go to test-output/console/ (git-ignored).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, newSession, signInWithToken } from '../harness/browser.ts';
import { startStack, type Stack } from '../harness/stack.ts';
import { adminApi, newPartner } from '../harness/admin.ts';

const SHOTS = join(import.meta.dirname, '..', '..', 'test-output', 'console');

let stack: Stack;
let browser: Browser;
let page: Page;
let partnerId: string;
const cspViolations: string[] = [];

const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
const select = (name: string) => page.locator(`select[name="${name}"]`);

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  stack = await startStack({ users: 5, extra: { console: { tokenLogin: true } } });
  partnerId = await newPartner(adminApi(stack, stack.adminToken), 'browser');
  browser = await launchBrowser();
  ({ page } = await newSession(browser, cspViolations));
  await signInWithToken(page, stack.adminUrl, stack.adminToken);
});
after(async () => {
  await browser?.close();
  await stack?.close();
});

test('console-agreements: creates an agreement with a bad field, sees the inline error next to it, and fixes it', async () => {
  await page.getByRole('link', { name: 'Agreements' }).click();
  await page.getByRole('link', { name: partnerId }).click();
  await page.getByRole('heading', { name: 'First agreement' }).waitFor();
  await page.getByLabel('Document reference').fill('NDA-2026-014');
  await page.getByLabel('Signed on').fill('2026-01-10');
  await page.getByLabel('Expires on').fill('2028-01-10');
  await page.getByLabel('Signatories').fill('A. Name, Partner LLP');
  await page.getByLabel('Valid from (UTC)').fill('2026-01-15T00:00:00Z');
  await page.getByLabel('Valid until (UTC)').fill('2027-01-15T00:00:00Z');
  await page.getByLabel('Processing countries').fill('KZ');
  await page.locator('#f-purposes-service_delivery summary').click();
  await select('purposes.service_delivery.categories.phone').selectOption('clear');
  // The bad field: a quasi-identifier sent clear without the justification RULES 30 asks for.
  await select('purposes.service_delivery.categories.ip_address').selectOption('clear');
  await page.getByRole('button', { name: 'Create agreement' }).click();

  const error = page.locator('#f-purposes-service_delivery-categories-ip_address-error');
  await error.waitFor();
  assert.match(await error.innerText(), /clear needs a written justification for ip_address/);
  assert.equal(await select('purposes.service_delivery.categories.ip_address').getAttribute('aria-invalid'), 'true');
  assert.match(await page.locator('.error-summary').innerText(), /1 field needs fixing/);
  await error.scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(SHOTS, '10-agreement-inline-error.png') });

  await select('purposes.service_delivery.categories.ip_address').selectOption('generalise');
  await page.getByRole('button', { name: 'Create agreement' }).click();
  await page.getByText('In force: version 1, active').waitFor();
  assert.equal(await page.locator('.field-error').count(), 0);
  await shot('11-agreement-created');
});

test('console-agreements: saves a second version and shows the two side by side with the changed rows marked', async () => {
  await select('purposes.service_delivery.categories.email').selectOption('pseudonymise');
  await page.getByRole('button', { name: 'Save new version' }).click();
  await page.getByText('In force: version 2, active').waitFor();
  await page.getByRole('button', { name: 'Compare' }).click();
  await page.waitForURL(/\/diff\?a=1&b=2$/);
  const changed = page.locator('tr.diff-added', { hasText: 'purposes.service_delivery.categories.email' });
  await changed.waitFor();
  assert.match(await changed.innerText(), /—\s+pseudonymise\s+added/);
  assert.match(await page.locator('tr.diff-changed', { hasText: 'status' }).innerText(), /superseded\s+active/);
  await shot('12-agreement-diff');
});

test('console-agreements: suspending asks for a confirmation first, then suspends', async () => {
  await page.getByRole('link', { name: `Back to agr_${partnerId}` }).click();
  await page.getByRole('button', { name: 'Suspend…' }).click();
  await page.getByRole('heading', { name: `Suspend agreement agr_${partnerId}?` }).waitFor();
  assert.match(await page.locator('main').innerText(), /refuses this partner's pulls \(403 agreement_inactive\)/);
  await shot('13-agreement-suspend-confirm');
  await page.getByRole('button', { name: `Yes, suspend agr_${partnerId}` }).click();
  await page.getByText('In force: version 2, suspended').waitFor();
  await page.getByRole('button', { name: 'Resume…' }).waitFor();
  await shot('14-agreement-suspended');
  await page.getByRole('link', { name: 'Agreements', exact: true }).click();
  await page.getByRole('heading', { name: 'Which version each instance enforces' }).waitFor();
  assert.match(await page.locator('tbody tr', { hasText: partnerId }).innerText(), /v2 suspended/);
  await shot('15-agreements-index');
  assert.deepEqual(cspViolations, [], 'no Content-Security-Policy violation');
});
