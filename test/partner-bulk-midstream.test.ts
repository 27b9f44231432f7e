// DESIGN 8: permission is checked at the moment of release. A partner opens an NDJSON pull over a
// big store and stops reading; meanwhile its permission lapses (suspension, termination, revoked
// credential, key version past grace, kill-switch, new agreement version). When it reads again, the
// stream ends with a last line naming the reason, and nothing is logged released after the change.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request, type Dispatcher } from 'undici';
import { readFileSync } from 'node:fs';
import { testCerts } from './harness/certs.ts';
import { startStack, waitFor, type Stack } from './harness/stack.ts';
import { setupPartner, partnerGet, type TestPartner } from './harness/partner.ts';
import { agreementBody, type Api } from './harness/admin.ts';

// Heavy rows so that the store is far more than socket buffers hold.
// RULES 30: the stored visit times and browser keep the payload heavy; clear needs a justification.
const JUSTIFIED = 'the test needs heavy records';
const heavy = { processingCountries: ['KZ', 'DE'], purposes: { service_delivery: { categories: { search_history: 'clear', visit_times: { treatment: 'clear', justification: JUSTIFIED }, cookies: 'clear', browser: { treatment: 'clear', justification: JUSTIFIED }, username: 'clear', phone: 'clear' } } } };
const USERS = 40_000; // ~18 MB of NDJSON: more than loopback TCP buffers can grow to (about 10 MB)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let stack: Stack;
before(async () => {
  // DE adequate, so releases to it need no per-user consent and most users are released.
  // A generous Redis deadline: the machine is shared, and a 1,000-entry append must not time out.
  stack = await startStack({ users: USERS, extra: { jurisdiction: { adequate: ['DE'] }, redis: { commandTimeoutMs: 5000 } } });
});
const clients: Agent[] = [];
after(async () => {
  for (const c of clients) await c.destroy();
  await stack.close();
});

type Pull = { p: TestPartner & { api: Api }; token: string; body: Dispatcher.ResponseData['body'] };

const newest = async (partnerId: string) =>
  (await stack.gateway.deps.transferLog.query.page({ partnerId, decision: 'released' }, { limit: 1 })).items[0]?.at ?? null;

/** A whole-store NDJSON pull, started and then not read until the gateway has stopped logging. */
async function stalledPull(): Promise<Pull> {
  const p = await setupPartner(stack, heavy);
  const token = await p.token('service_delivery');
  // A connection of its own: one reused from an earlier test has had its socket buffers grown by
  // fast reads (TCP autotuning) until they hold the whole stream, and then nothing ever stalls.
  const client = new Agent({ connect: { ca: readFileSync((await testCerts()).ca) } });
  clients.push(client);
  const res = await request(`${stack.url}/v1/subjects?purpose=service_delivery`, {
    dispatcher: client, headers: { authorization: `Bearer ${token}`, accept: 'application/x-ndjson' },
  });
  assert.equal(res.statusCode, 200);
  // Not reading: buffers fill, then the newest released entry must stop moving.
  let last: string | null = 'none';
  for (let i = 0; i < 40; i++) {
    await sleep(500);
    const now = await newest(p.id);
    if (now !== null && now === last) break;
    last = now;
  }
  assert.ok(last !== null && last !== 'none', 'the stream released something before it stalled');
  return { p, token, body: res.body };
}

/** Read the rest; the last line and the entries released from `changedAt` on. */
async function resume(pull: Pull, changedAt: string) {
  const text = await pull.body.text();
  const lines = text.trim().split('\n').map((l) => JSON.parse(l));
  const tail = lines.at(-1);
  const items = lines.filter((l) => typeof l.subject === 'string').length;
  const late = await stack.gateway.deps.transferLog.query.page({ partnerId: pull.p.id, decision: 'released', from: changedAt }, { limit: 5 });
  return { tail, items, late: late.items.length };
}

const agreementOf = (partnerId: string) => stack.gateway.deps.agreements.current(partnerId)!;

/** The common assertions: cut short, named reason, nothing released after the change. */
async function assertEndsWith(pull: Pull, changedAt: string, code: string) {
  const { tail, items, late } = await resume(pull, changedAt);
  // On failure, the gateway's last warnings say why (e.g. a log append that timed out).
  assert.equal(tail.error, code, `${JSON.stringify(tail)}\n${stack.logs.lines.filter((l) => /"level":(40|50)/.test(l)).slice(-5).join('\n')}`);
  assert.equal(typeof tail.detail, 'string');
  assert.ok(!('nextCursor' in tail), 'the stream did not claim to be complete');
  assert.ok(items > 0 && items < USERS, `received ${items} of ${USERS}`);
  assert.equal(late, 0, 'entries were logged released after the change');
  // The lapse is itself logged as a denial.
  const denied = await stack.gateway.deps.transferLog.query.page({ partnerId: pull.p.id, decision: 'denied', from: changedAt }, { limit: 100 });
  assert.ok(denied.items.some((e) => e.reason === code), `no ${code} denial logged`);
}

test('agreement suspended mid-stream: the stream ends with agreement_inactive', async () => {
  const pull = await stalledPull();
  const id = agreementOf(pull.p.id).id;
  assert.equal((await pull.p.api('POST', `/admin/v1/agreements/${id}/suspend`)).status, 200);
  await waitFor(() => agreementOf(pull.p.id).status !== 'active', 5000);
  await assertEndsWith(pull, new Date().toISOString(), 'agreement_inactive');
});

test('agreement terminated mid-stream: the stream ends with agreement_inactive', async () => {
  const pull = await stalledPull();
  const id = agreementOf(pull.p.id).id;
  assert.equal((await pull.p.api('POST', `/admin/v1/agreements/${id}/terminate`)).status, 200);
  await waitFor(() => agreementOf(pull.p.id).status !== 'active', 5000);
  await assertEndsWith(pull, new Date().toISOString(), 'agreement_inactive');
});

test('credential (and its tokens) revoked mid-stream: the stream ends with invalid_token', async () => {
  const pull = await stalledPull();
  const del = await pull.p.api('DELETE', `/admin/v1/partners/${pull.p.id}/credentials/${pull.p.clientId}`);
  assert.ok(del.status === 200 || del.status === 204, `revoke: ${del.status}`);
  // This gateway has taken the revocation in once a fresh request with the token is refused.
  await waitFor(async () => (await partnerGet(stack, pull.token, '/v1/agreement')).status === 401, 5000);
  await assertEndsWith(pull, new Date().toISOString(), 'invalid_token');
});

test('pseudonym key version past its grace mid-stream: the stream ends with agreement_changed', async () => {
  const pull = await stalledPull();
  const rot = await pull.p.api('POST', `/admin/v1/partners/${pull.p.id}/keys/rotate`, { body: { graceSeconds: 0 } });
  assert.equal(rot.status, 200, rot.text);
  await waitFor(() => !stack.gateway.deps.partnerKeys.versions(pull.p.id).accepted.includes(1), 5000);
  await assertEndsWith(pull, new Date().toISOString(), 'agreement_changed');
});

test('a new agreement version mid-stream: the stream ends with agreement_changed', async () => {
  const pull = await stalledPull();
  const v = agreementOf(pull.p.id).version;
  const next = await pull.p.api('POST', `/admin/v1/partners/${pull.p.id}/agreements`, {
    body: agreementBody({ ...heavy, purposes: { service_delivery: { categories: { phone: 'clear' } } } }),
  });
  assert.equal(next.status, 201, next.text);
  await waitFor(() => agreementOf(pull.p.id).version > v, 5000);
  await assertEndsWith(pull, new Date().toISOString(), 'agreement_changed');
});

test('single pull: the agreement suspended while the store read is in flight is denied agreement_inactive', async () => {
  const p = await setupPartner(stack, heavy);
  const token = await p.token('service_delivery');
  const page = await partnerGet(stack, token, '/v1/subjects?purpose=service_delivery&limit=20');
  const subject = page.body.items[0].subject as string;
  const path = `/v1/subjects/${subject}?purpose=service_delivery`;
  assert.equal((await partnerGet(stack, token, path)).status, 200, 'released while the agreement is active');
  // The real HTTPS read completes, then is held before the gateway gets it: the suspension comes
  // after the request's start and before its decision.
  const up = stack.gateway.deps.upstream;
  const original = up.getUser;
  let readDone!: () => void;
  const read = new Promise<void>((r) => { readDone = r; });
  let letGo!: () => void;
  const held = new Promise<void>((r) => { letGo = r; });
  up.getUser = async (id: string) => {
    const rec = await original.call(up, id);
    readDone();
    await held;
    return rec;
  };
  try {
    const pending = partnerGet(stack, token, path);
    await read;
    const since = new Date().toISOString();
    const id = agreementOf(p.id).id;
    assert.equal((await p.api('POST', `/admin/v1/agreements/${id}/suspend`)).status, 200);
    await waitFor(() => agreementOf(p.id).status !== 'active', 5000);
    letGo();
    const r = await pending;
    assert.equal(r.status, 403, r.text);
    assert.equal(r.body.code, 'agreement_inactive');
    const log = stack.gateway.deps.transferLog.query;
    assert.equal((await log.page({ partnerId: p.id, decision: 'released', from: since }, { limit: 1 })).items.length, 0);
    const denied = await log.page({ partnerId: p.id, decision: 'denied', from: since }, { limit: 5 });
    assert.ok(denied.items.some((e) => e.reason === 'agreement_inactive'), 'the denial is logged');
  } finally {
    up.getUser = original;
  }
});

// Last: the kill-switch reaches every partner of this stack.
test('a processing country put on the kill-switch mid-stream: the stream ends with country_blocked', async () => {
  const pull = await stalledPull();
  const put = await pull.p.api('PUT', '/admin/v1/jurisdiction/blocked/DE', { body: { reason: 'statutory restriction pending review' } });
  assert.equal(put.status, 200, put.text);
  await waitFor(() => (stack.gateway.deps.jurisdiction.current().blocked ?? []).includes('DE'), 5000);
  await assertEndsWith(pull, new Date().toISOString(), 'country_blocked');
});
