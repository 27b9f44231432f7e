// RULES 50 (breach clock): an egress-guard hit, an anchor mismatch and a failed verify each open an
// incident with detectedAt and a 72-hour notifyBy; incidents are listed by admins and auditors,
// acknowledged by admins only (audited), raise gateway_incidents_open, show in /readyz without
// failing it, and are posted (signed, retried) to incidents.webhookUrl through the webhook guard.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { fetch } from 'undici';
import jose from 'node-jose';
import { startStack, waitFor, type Stack } from './harness/stack.ts';
import { adminApi, type Api } from './harness/admin.ts';
import { setupPartner, partnerGet } from './harness/partner.ts';
import { findUser, active } from './harness/users.ts';
import { testCerts } from './harness/certs.ts';
import { released } from './harness/transfer-log.ts';
import { startWebhookReceiver, type WebhookReceiver } from './harness/webhook.ts';
import { syntheticSource, type UserSource } from '../src/core-store/source.ts';
import type { UserRecord } from '../src/core-store/record.ts';
import { createPseudonymizer } from '../src/pseudonym/subject.ts';

const USERS = 20;
const CANARY = 'cnry-5b1e77d0-incident-drill';
const TERMS = { processingCountries: ['KZ'], purposes: { service_delivery: { categories: { phone: 'clear', username: 'clear' } } } };
const planted = findUser(USERS, active);
const HOUR = 3_600_000;

function plantedSource(): UserSource {
  const inner = syntheticSource(USERS);
  const plant = (u: UserRecord): UserRecord => (u.id === planted.id ? { ...u, username: `${u.username}.${CANARY}` } : u);
  return {
    get count() { return inner.count; },
    get: (id) => { const u = inner.get(id); return u && plant(u); },
    page: (q) => { const p = inner.page(q); return { ...p, items: p.items.map(plant) }; },
  };
}

let stack: Stack;
let rx: WebhookReceiver;
let admin: Api;
let auditor: Api;
let partnerId: string;
let firstRequestId: string;

before(async () => {
  rx = await startWebhookReceiver((n) => ({ status: n === 1 ? 503 : 204 })); // the first post fails: retried
  stack = await startStack({
    users: USERS, source: plantedSource(),
    extra: {
      egressGuard: { canaries: [CANARY] },
      incidents: { webhookUrl: rx.url('/ops/incidents') },
      notices: { webhookCa: (await testCerts()).ca, retryBaseMs: 50, retryMaxMs: 200 },
    },
  });
  admin = adminApi(stack, stack.adminToken);
  auditor = adminApi(stack, (await admin('POST', '/admin/v1/tokens', { body: { role: 'auditor' } })).body.token);
});
after(async () => {
  await stack?.close();
  await rx?.close();
});

const metric = async (name: string) => {
  const text = await (await fetch(`${stack.adminUrl}/metrics`, { dispatcher: stack.client, headers: { authorization: `Bearer ${stack.adminToken}` } })).text();
  return Number(text.split('\n').find((l) => l.startsWith(`${name} `))?.split(' ')[1]);
};
const readyz = async () => {
  const r = await fetch(`${stack.url}/readyz`, { dispatcher: stack.client });
  return { status: r.status, body: (await r.json()) as Record<string, any> };
};

test('an egress-guard hit opens an incident (detectedAt, notifyBy 72 h later, partner, request); a second hit counts on it', async () => {
  const p = await setupPartner(stack, TERMS);
  partnerId = p.id;
  const token = await p.token('service_delivery');
  const subject = createPseudonymizer(stack.gateway.deps.keys.pseudonymMaster).encode(planted.id, p.id, 1);
  const first = await partnerGet(stack, token, `/v1/subjects/${subject}?purpose=service_delivery`);
  assert.equal(first.status, 403);
  firstRequestId = first.headers.get('x-request-id')!;
  await stack.gateway.deps.incidents.settled();
  assert.equal((await partnerGet(stack, token, `/v1/subjects/${subject}?purpose=service_delivery`)).status, 403);
  await stack.gateway.deps.incidents.settled();

  const list = await auditor('GET', '/admin/v1/incidents');
  assert.equal(list.status, 200, list.text);
  assert.equal(list.body.items.length, 1);
  const inc = list.body.items[0];
  assert.equal(inc.kind, 'egress_guard');
  assert.equal(inc.status, 'open');
  assert.equal(inc.partnerId, p.id);
  assert.equal(inc.requestId, firstRequestId);
  assert.equal(inc.count, 2);
  assert.equal(Date.parse(inc.notifyBy) - Date.parse(inc.detectedAt), 72 * HOUR);
  assert.ok(Math.abs(Date.parse(inc.detectedAt) - Date.now()) < 60_000);
  // No personal data, no canary: ids and codes only.
  assert.doesNotMatch(JSON.stringify(inc), new RegExp(`${CANARY}|${planted.id}|${planted.username}`));
  assert.ok(!stack.logs.lines.some((l) => l.includes(CANARY)), 'the canary reached the logs');
  // The webhook status moves on in the background; the rest is the same incident, for an admin too.
  const strip = ({ webhook: _w, ...rest }: Record<string, unknown>) => rest;
  assert.deepEqual(strip((await admin('GET', `/admin/v1/incidents/${inc.id}`)).body), strip(inc));
});

test('the ops webhook receives the incident signed by the gateway, retried after a failure until delivered', async () => {
  await waitFor(() => rx.received.some((r) => r.status === 204), 5000);
  assert.equal(rx.received[0]!.status, 503);
  const last = rx.received.find((r) => r.status === 204)!;
  assert.equal(last.headers['content-type'], 'application/jose');
  const jwks = await (await fetch(`${stack.url}/.well-known/jwks.json`, { dispatcher: stack.client })).json();
  const verified = await jose.JWS.createVerify(await jose.JWK.asKeyStore(jwks as object)).verify(last.body);
  const body = JSON.parse(verified.payload.toString());
  assert.equal(body.typ, 'incident');
  assert.equal(body.incident.kind, 'egress_guard');
  assert.equal(body.incident.partnerId, partnerId);
  await waitFor(async () => (await auditor('GET', `/admin/v1/incidents/${body.incident.id}`)).body.webhook?.status === 'delivered', 5000);
});

test('/readyz reports the open incident without failing readiness; gateway_incidents_open counts it', async () => {
  const r = await readyz();
  assert.equal(r.status, 200);
  assert.equal(r.body.checks.incidents, 'open');
  assert.equal(r.body.openIncidents, 1);
  assert.equal(await metric('gateway_incidents_open'), 1);
});

test('acknowledging: admin only, audited, then no longer open; malformed and unknown ids refused', async () => {
  const [inc] = (await admin('GET', '/admin/v1/incidents?status=open')).body.items;
  assert.equal((await auditor('POST', `/admin/v1/incidents/${inc.id}/ack`, { body: {} })).status, 403);
  const coreStore = adminApi(stack, (await admin('POST', '/admin/v1/tokens', { body: { role: 'core_store' } })).body.token);
  assert.equal((await coreStore('GET', '/admin/v1/incidents')).status, 403);
  assert.equal((await admin('POST', '/admin/v1/incidents/inc_zz/ack', { body: {} })).status, 400);
  assert.equal((await admin('POST', '/admin/v1/incidents/inc_0000000000000000/ack', { body: {} })).status, 404);
  assert.equal((await admin('POST', `/admin/v1/incidents/${inc.id}/ack`, { body: { note: 'free text' } })).status, 400);
  const ack = await admin('POST', `/admin/v1/incidents/${inc.id}/ack`, { body: {} });
  assert.equal(ack.status, 200, ack.text);
  assert.equal(ack.body.status, 'acknowledged');
  assert.match(ack.body.acknowledgedBy, /\S/);
  assert.equal((await admin('POST', `/admin/v1/incidents/${inc.id}/ack`, { body: {} })).status, 409);
  const audit = await auditor('GET', '/admin/v1/audit');
  assert.ok(audit.body.items.some((e: any) => e.action === 'incident.acknowledge' && e.target === inc.id), 'the acknowledgement is in the audit trail');
  const r = await readyz();
  assert.equal(r.status, 200);
  assert.equal(r.body.checks.incidents, 'none');
  assert.equal(await metric('gateway_incidents_open'), 0);
  assert.equal((await admin('GET', '/admin/v1/incidents?status=open')).body.items.length, 0);
});

test('an anchor mismatch, then a tampered entry, each open an incident naming what verify found; listed newest first, paged', async () => {
  const tlog = stack.gateway.deps.transferLog;
  const [e] = await tlog.appendMany([released(), released()]);
  await tlog.checkpointNow();
  assert.equal((await auditor('GET', '/admin/v1/transfers/verify')).body.ok, true, 'control: intact');
  await stack.gateway.deps.incidents.settled();
  assert.equal((await admin('GET', '/admin/v1/incidents?status=open')).body.items.length, 0, 'control: a passing verify opens nothing');

  const file = stack.config.transferLog.anchors.file;
  const original = readFileSync(file, 'utf8');
  writeFileSync(file, `${original}not an anchor line\n`);
  const v1 = await auditor('GET', '/admin/v1/transfers/verify');
  assert.equal(v1.body.ok, false);
  writeFileSync(file, original);
  await stack.gateway.deps.incidents.settled();

  const { redis } = stack.gateway.deps;
  const rows = ((await redis.xRange(tlog.keys.chain(tlog.writer.chain).entries, '-', '+')) ?? []);
  const target = rows.find((m) => JSON.parse(m.message.e!).id === e!.id)!;
  await redis.del(tlog.keys.chain(tlog.writer.chain).entries); // rewritten as someone with write access to Redis could
  for (const m of rows) await redis.xAdd(tlog.keys.chain(tlog.writer.chain).entries, m.id, m.id === target.id ? { e: JSON.stringify({ ...JSON.parse(m.message.e!), purpose: 'marketing_research' }) } : m.message);
  const v2 = await auditor('GET', '/admin/v1/transfers/verify');
  assert.equal(v2.body.brokenAt.reason, 'hash_mismatch');
  await stack.gateway.deps.incidents.settled();

  const open = await auditor('GET', '/admin/v1/incidents?status=open&limit=1');
  assert.equal(open.status, 200, open.text);
  assert.deepEqual(open.body.items.map((i: any) => [i.kind, i.found, i.chain]), [['verify_failed', 'hash_mismatch', e!.chain]]);
  const next = await auditor('GET', `/admin/v1/incidents?status=open&limit=1&cursor=${open.body.nextCursor}`);
  assert.deepEqual(next.body.items.map((i: any) => [i.kind, i.found]), [['anchor_mismatch', 'anchor_invalid']]);
  assert.equal(next.body.nextCursor, null);
  assert.equal((await auditor('GET', `/admin/v1/incidents?limit=1&cursor=${open.body.nextCursor}`)).status, 400, 'a cursor is bound to its filter');
  assert.equal((await readyz()).body.openIncidents, 2);
});

// RULES 50 and 29: "a pseudonymisation-secret compromise opens an incident" and "a key compromise
// triggers rule 29": reporting a partner's key compromised rotates it at once (no grace: the old
// pseudonyms stop resolving) and starts the breach clock.
test('a key reported compromised is rotated with no grace and opens a key_compromise incident', async () => {
  const p = await setupPartner(stack, TERMS);
  const token = await p.token('service_delivery');
  const oldSubject = createPseudonymizer(stack.gateway.deps.keys.pseudonymMaster).encode(findUser(USERS, (u) => u.id !== planted.id && active(u)).id, p.id, 1);
  assert.equal((await partnerGet(stack, token, `/v1/subjects/${oldSubject}?purpose=service_delivery`)).status, 200);

  const bad = await admin('POST', `/admin/v1/partners/${p.id}/keys/rotate`, { body: { compromised: true, graceSeconds: 60 } });
  assert.equal(bad.status, 400, bad.text);
  assert.ok(bad.body.errors.some((e: { field: string }) => e.field === 'graceSeconds'));

  const r = await admin('POST', `/admin/v1/partners/${p.id}/keys/rotate`, { body: { compromised: true } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.current, 2);
  assert.equal(r.body.retired[0].acceptedUntil, r.body.retired[0].retiredAt, 'no grace');
  assert.match(r.body.incidentId, /^inc_[0-9a-f]{16}$/);
  const inc = await auditor('GET', `/admin/v1/incidents/${r.body.incidentId}`);
  assert.equal(inc.status, 200, inc.text);
  assert.equal(inc.body.kind, 'key_compromise');
  assert.equal(inc.body.partnerId, p.id);
  assert.equal(inc.body.status, 'open');
  await waitFor(async () => (await partnerGet(stack, token, `/v1/subjects/${oldSubject}?purpose=service_delivery`)).status !== 200, 5000);
});
