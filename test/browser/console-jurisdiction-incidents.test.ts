// Issue 16 pages 7, 9 and 5 (partner details) in a real browser (Debian's chromium through
// playwright-core), as a user would: the jurisdiction page with an overdue review highlighted;
// step 10 of the issue — block a country (confirming) and see the next pull denied in the live
// view within 2 s; the incidents page (clock, overdue deletions, a re-identification waiting for
// a second admin) and acknowledging an incident; a partner's details with a JWKS upload error
// shown and a key rotation. Screenshots go to test-output/console/ (git-ignored).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, newSession, signInWithToken } from '../harness/browser.ts';
import { startStack, type Stack } from '../harness/stack.ts';
import { adminApi, type Api } from '../harness/admin.ts';
import { setupPartner, partnerGet, type TestPartner } from '../harness/partner.ts';
import { JurisdictionStore } from '../../src/jurisdiction/store.ts';
import { NoticeQueue } from '../../src/notices/queue.ts';
import { noticeKeys } from '../../src/notices/keys.ts';
import { makeNotice } from '../../src/notices/notice.ts';

const SHOTS = join(import.meta.dirname, '..', '..', 'test-output', 'console');
const LIVE_WITHIN_MS = 2000; // issue 16: "a release shows up within 2 s"

let stack: Stack;
let api: Api;
let browser: Browser;
let page: Page;
let partner: TestPartner;
let subject: string;
const cspViolations: string[] = [];
/** The message of every confirmation dialog (data-confirm), each accepted as a user clicking OK. */
const confirmations: string[] = [];

const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
const pull = async () => partnerGet(stack, await partner.token('service_delivery'), `/v1/subjects/${subject}?purpose=service_delivery`);

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  stack = await startStack({ users: 10, extra: { console: { tokenLogin: true } } });
  api = adminApi(stack, stack.adminToken);
  // A partner processing in Germany too, on the adequacy list: its pulls are released until DE is blocked.
  const de = await api('PUT', '/admin/v1/jurisdiction/adequate/DE', { body: { justification: 'EU adequacy assessment by counsel, memo 2026-07', reviewBy: '2030-01-01' } });
  assert.equal(de.status, 200, de.text);
  // An entry past its review date (time passes; the service would refuse to write one).
  await new JurisdictionStore(stack.gateway.deps.redis).change({ tokenId: 'tok_counsel', role: 'admin' }, 'adequate', 'CH',
    { country: 'CH', justification: 'Swiss FADP assessment 2024', approvedBy: 'tok_counsel', approvedAt: '2024-01-01T00:00:00.000Z', reviewBy: '2025-01-01T00:00:00.000Z' });
  partner = await setupPartner(stack, { processingCountries: ['KZ', 'DE'], purposes: { service_delivery: { categories: { phone: 'clear', username: 'clear' } } } });
  const first = await partnerGet(stack, await partner.token('service_delivery'), '/v1/subjects?purpose=service_delivery&limit=2');
  assert.equal(first.status, 200, first.text);
  subject = first.body.items[0].subject;
  browser = await launchBrowser();
  ({ page } = await newSession(browser, cspViolations));
  page.on('dialog', (d) => { confirmations.push(d.message()); void d.accept(); });
  await signInWithToken(page, stack.adminUrl, stack.adminToken);
});
after(async () => {
  await browser?.close();
  await stack?.close();
});

test('console-jurisdiction: the adequacy list with justification, approver and review date; the overdue review is highlighted', async () => {
  await page.getByRole('link', { name: 'Jurisdiction' }).click();
  await page.getByRole('heading', { level: 1, name: 'Jurisdiction' }).waitFor();
  const de = page.locator('tr[data-country="DE"]');
  assert.match(await de.innerText(), /EU adequacy assessment by counsel[\s\S]*tok_bootstrap[\s\S]*2030-01-01/);
  const ch = page.locator('tr[data-country="CH"]');
  assert.match(await ch.innerText(), /Review overdue since 2025-01-01: counts as absent/);
  // Highlighted: a background other than the page's, on the row's review cell.
  const bg = await page.evaluate(`getComputedStyle(document.querySelector('tr[data-country="CH"] td.overdue')).backgroundColor`);
  assert.equal(bg, 'rgb(253, 236, 236)');
  await shot('10-jurisdiction');
});

test('console-jurisdiction: step 10 — blocks a country (with a confirmation) and sees the next pull denied in the live view within 2 s', async () => {
  assert.equal((await pull()).status, 200, 'released before the block');
  await page.getByLabel('Country (ISO code)').first().fill('DE');
  await page.getByLabel('Reason').fill('court order 12/2026 restricting transfers');
  await page.getByRole('button', { name: 'Block country' }).click();
  await page.locator('#blocked + p + table tr[data-country="DE"]').waitFor();
  assert.match(confirmations.at(-1) ?? '', /Block every transfer/);
  assert.match(await page.locator('tr[data-country="DE"]').last().innerText(), /court order 12\/2026[\s\S]*tok_bootstrap/);
  await shot('11-jurisdiction-blocked');

  await page.getByRole('link', { name: 'Live transfers' }).click();
  await page.getByLabel('Partner id').fill(partner.id);
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.locator('#live-status', { hasText: 'Live' }).waitFor();
  const denied = await pull();
  assert.equal(denied.status, 403);
  assert.equal(denied.body.code, 'country_blocked');
  const row = page.locator('#live-rows tr').filter({ hasText: 'country_blocked' });
  await row.first().waitFor({ timeout: LIVE_WITHIN_MS });
  assert.match(await row.first().innerText(), /service_delivery\s+denied\s+country_blocked\s+DE, KZ/);
  await shot('12-live-country-blocked');
});

test('console-incidents: the open incident\'s clock, an overdue deletion, a re-identification for a second admin; acknowledging with a confirmation', async () => {
  const { id } = await stack.gateway.deps.incidents.open({ kind: 'egress_guard', found: 'egress_guard', partnerId: partner.id });
  await new NoticeQueue(stack.gateway.deps.redis, noticeKeys(), 86_400_000)
    .enqueue(partner.id, makeNotice('ntc_browserOverdueNotice1', 'subject_erased', 'v1.x', [], '2026-11-20T00:00:00Z'), Date.now() - 2 * 86_400_000);
  const asked = await api('POST', '/admin/v1/reidentifications', { body: { partnerId: partner.id, subject, reason: 'complaint ref CMP-2026-0042' } });
  assert.equal(asked.status, 201, asked.text);
  await page.getByRole('link', { name: 'Incidents' }).click();
  await page.getByRole('heading', { level: 1, name: 'Incidents' }).waitFor();
  const inc = page.locator(`tr[data-incident-id="${id}"]`);
  assert.match(await inc.innerText(), /egress_guard[\s\S]*\d+ h \d\d min left/);
  assert.match(await page.locator('#overdue-deletions + table').innerText(), /ntc_browserOverdueNotice1[\s\S]*subject_erased/);
  assert.match(await page.locator(`tr[data-reid-id="${asked.body.id}"]`).innerText(), /CMP-2026-0042[\s\S]*You requested this: another admin must approve it/);
  await shot('13-incidents');
  await inc.getByRole('button', { name: 'Acknowledge' }).click();
  await page.getByText('No open incidents').waitFor();
  assert.match(confirmations.at(-1) ?? '', /Acknowledge incident/);
  assert.equal((await stack.gateway.deps.incidents.get(id))?.acknowledgedBy, 'tok_bootstrap');
});

test('console-partner-details: recipients and denials; a JWKS upload error is shown next to the field; the key is rotated', async () => {
  await page.getByRole('link', { name: 'Partners' }).click();
  await page.getByRole('link', { name: partner.id, exact: true }).click();
  await page.getByRole('heading', { level: 1, name: `Partner ${partner.id}` }).waitFor();
  assert.match(await page.locator('#denials + table').innerText(), /country_blocked/);
  await page.getByLabel(/Upload a JWKS/).fill('{"keys":[{"kty":"EC","crv":"P-256","kid":"k1","x":"not-a-point","y":"nope"}]}');
  await page.getByRole('button', { name: 'Upload JWKS' }).click();
  const error = page.locator('#jwks-error');
  await error.waitFor();
  assert.match(await error.innerText(), /jwks\.keys\.0/);
  assert.equal(await page.getByLabel(/Upload a JWKS/).getAttribute('aria-invalid'), 'true');
  await shot('14-partner-details-jwks-error');
  await page.getByRole('button', { name: 'Rotate pseudonym key' }).click();
  await page.locator('#key-version', { hasText: 'v2' }).waitFor();
  assert.match(confirmations.at(-1) ?? '', /Rotate .* pseudonym key/);
  await shot('15-partner-details');
  assert.deepEqual(cspViolations, [], 'no Content-Security-Policy violation on any page');
});
