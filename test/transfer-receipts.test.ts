// Issue 15 item 4: receipts for partners. Every released answer carries a JWS by the gateway key
// naming its transfer log entries; a partner verifies it with the public JWKS alone (here with the
// independent `jose` package), and an auditor proves inclusion against the log — through the
// admin API and the CLI — where a deleted entry is tampering and a trimmed one is not.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fetch } from 'undici';
import { compactVerify, createLocalJWKSet, decodeProtectedHeader, generateKeyPair, exportJWK, type JSONWebKeySet } from 'jose';
import { startStack, type Stack } from './harness/stack.ts';
import { entryRows } from './harness/transfer-log.ts';
import { setupPartner, partnerGet, type TestPartner } from './harness/partner.ts';
import { adminApi, fieldsOf, type Api } from './harness/admin.ts';
import { findUser, active } from './harness/users.ts';
import { tmp } from './harness/certs.ts';
import { runCli } from './harness/cli.ts';
import { createPseudonymizer } from '../src/pseudonym/subject.ts';
import { createRedisClient, type Redis } from '../src/deps.ts';
import { decodeRanges } from '../src/transfer-log/seq-ranges.ts';
import type { TransferEntry } from '../src/transfer-log/index.ts';

const USERS = 1500; // more than one store page (1000), so a stream has two page receipts
const domestic = { processingCountries: ['KZ'], purposes: { service_delivery: { categories: { phone: 'clear', username: 'clear' } } } };
let stack: Stack;
let p: TestPartner;
let auditor: Api;
let attacker: Redis;
let cliEnv: Record<string, string>;
let jwks: ReturnType<typeof createLocalJWKSet>;
const enc = await generateKeyPair('ECDH-ES+A256KW', { extractable: true });

before(async () => {
  stack = await startStack({ users: USERS });
  p = await setupPartner(stack, domestic, { jwks: { keys: [{ ...(await exportJWK(enc.publicKey)), kid: 'enc-1', use: 'enc', alg: 'ECDH-ES+A256KW' }] } });
  const minted = await adminApi(stack, stack.adminToken)('POST', '/admin/v1/tokens', { body: { role: 'auditor' } });
  auditor = adminApi(stack, minted.body.token);
  // The partner's view: the JWKS fetched over HTTPS from the partner listener, nothing else.
  const res = await fetch(`${stack.url}/.well-known/jwks.json`, { dispatcher: stack.client });
  assert.equal(res.status, 200);
  jwks = createLocalJWKSet(await res.json() as JSONWebKeySet);
  // A second Redis client: whoever can write to Redis besides the gateway.
  attacker = createRedisClient(stack.redis.url, stack.config.redis.tls, 2000);
  attacker.on('error', () => undefined);
  await attacker.connect();
  const config = join(tmp('receipt-cli'), 'gateway.json');
  writeFileSync(config, JSON.stringify({ redis: { url: stack.redis.url, tls: stack.config.redis.tls }, keys: { dir: stack.config.keys.dir } }));
  cliEnv = { GATEWAY_CONFIG: config };
});
after(async () => {
  attacker?.destroy();
  await stack.close();
});

const tlog = () => stack.gateway.deps.transferLog;
const subjectFor = (userId: string) => createPseudonymizer(stack.gateway.deps.keys.pseudonymMaster).encode(userId, p.id, 1);
const payloadOf = async (jws: string) => {
  const { payload, protectedHeader } = await compactVerify(jws, jwks, { algorithms: ['ES256'] });
  return { header: protectedHeader, body: JSON.parse(new TextDecoder().decode(payload)) };
};
async function entriesOf(requestId: string): Promise<TransferEntry[]> {
  const out: TransferEntry[] = [];
  for await (const e of tlog().query.export({ partnerId: p.id })) if (e.requestId === requestId) out.push(e);
  return out;
}
async function pullOne(userId: string, accept?: string) {
  const token = await p.token('service_delivery');
  return partnerGet(stack, token, `/v1/subjects/${subjectFor(userId)}?purpose=service_delivery`, accept ? { accept } : {});
}
const verifyApi = (receipt: string) => auditor('POST', '/admin/v1/transfers/receipts/verify', { body: { receipt } });
async function verifyCli(receipt: string) {
  const file = join(tmp('receipt'), 'receipt.jws');
  writeFileSync(file, receipt);
  return runCli(['log', 'verify', '--receipt', file, '--json'], cliEnv);
}
const flipSignatureByte = (jws: string) => {
  const [h, pl, s] = jws.split('.');
  const sig = Buffer.from(s!, 'base64url');
  sig[10] = sig[10]! ^ 0x01;
  return `${h}.${pl}.${sig.toString('base64url')}`;
};
/** The (chain, seq) pairs a page receipt says were released. */
const releasedBy = (body: { segments: { chain: string; released: string }[] }) =>
  body.segments.flatMap((s) => decodeRanges(s.released)!.map((q) => `${s.chain}:${q}`));

test('a single pull: Transfer-Receipt verifies with jose against /.well-known/jwks.json and names the entry the log has for the request', async () => {
  const user = findUser(USERS, active);
  const r = await pullOne(user.id);
  assert.equal(r.status, 200, r.text);
  const receipt = r.headers.get('transfer-receipt');
  assert.ok(receipt, 'the answer carries a Transfer-Receipt header');
  assert.ok(!('receipt' in r.body), 'the body stays as CONTRACT 4 has it');
  const { header, body } = await payloadOf(receipt);
  assert.equal(header.kid, stack.gateway.deps.keys.signingJwk.kid);
  assert.equal(body.typ, 'transfer-receipt');
  const [entry, ...more] = await entriesOf(r.headers.get('x-request-id')!);
  assert.equal(more.length, 0);
  assert.equal(entry!.decision, 'released');
  assert.deepEqual(body.entry, { id: entry!.id, chain: entry!.chain, seq: entry!.seq, hash: entry!.hash, at: entry!.at, subject: subjectFor(user.id) });
  assert.equal(body.entry.id, r.body.transferId);
  assert.equal(body.partnerId, p.id);
  assert.equal(body.purpose, 'service_delivery');
  assert.ok(!receipt.includes(user.id) && !JSON.stringify(body).includes(entry!.subjectRef!), 'no raw user id and no subjectRef');

  // Accept: application/jose carries it too.
  const j = await pullOne(user.id, 'application/jose');
  assert.equal(j.status, 200, j.text);
  assert.match(j.headers.get('content-type')!, /^application\/jose/);
  const jr = await payloadOf(j.headers.get('transfer-receipt')!);
  const [je] = await entriesOf(j.headers.get('x-request-id')!);
  assert.equal(jr.body.entry.id, je!.id);
  assert.equal(jr.body.entry.hash, je!.hash);
});

test('a JSON page and an NDJSON stream carry page receipts covering exactly the released subjects\' entries', async () => {
  const token = await p.token('service_delivery');
  const page = await partnerGet(stack, token, '/v1/subjects?purpose=service_delivery&limit=300');
  assert.equal(page.status, 200, page.text);
  assert.ok(page.body.omitted > 0 && page.body.items.length > 0, 'some released, some omitted');
  assert.equal(page.body.receipts.length, 1);
  const pr = await payloadOf(page.body.receipts[0]);
  assert.equal(decodeProtectedHeader(page.body.receipts[0]).typ, 'transfer-receipt');
  const logged = await entriesOf(page.headers.get('x-request-id')!);
  assert.equal(logged.length, 300);
  const rel = logged.filter((e) => e.decision === 'released');
  assert.equal(rel.length, page.body.items.length);
  assert.deepEqual(releasedBy(pr.body).sort(), rel.map((e) => `${e.chain}:${e.seq}`).sort());
  const last = logged.reduce((a, b) => (b.seq > a.seq ? b : a));
  assert.equal(pr.body.segments[0].hash, last.hash, 'the run ends at the page\'s last entry');
  assert.equal(pr.body.subjects, createHash('sha256').update(page.body.items.map((i: { subject: string }) => i.subject).join('\n')).digest('base64url'));

  const res = await fetch(`${stack.url}/v1/subjects?purpose=service_delivery`, {
    dispatcher: stack.client, headers: { authorization: `Bearer ${token}`, accept: 'application/x-ndjson' },
  });
  assert.equal(res.status, 200);
  const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l));
  const tail = lines.at(-1);
  const items = lines.filter((l) => typeof l.subject === 'string');
  assert.equal(tail.nextCursor, null);
  assert.equal(items.length + tail.omitted, USERS);
  assert.equal(tail.receipts.length, 2, 'one receipt per store page');
  const streamed = await entriesOf(res.headers.get('x-request-id')!);
  const covered: string[] = [];
  let offset = 0;
  for (const jws of tail.receipts) {
    const { body } = await payloadOf(jws);
    const mine = releasedBy(body);
    covered.push(...mine);
    // Each receipt's subjects digest covers that page's items, in the order sent.
    const pageItems = items.slice(offset, offset + mine.length).map((i) => i.subject);
    assert.equal(body.subjects, createHash('sha256').update(pageItems.join('\n')).digest('base64url'));
    offset += mine.length;
  }
  assert.equal(offset, items.length);
  assert.deepEqual(covered.sort(), streamed.filter((e) => e.decision === 'released').map((e) => `${e.chain}:${e.seq}`).sort());
});

test('a receipt older than the trim horizon is reported as trimmed, not as tampering', async () => {
  const r = await pullOne(findUser(USERS, active).id);
  const receipt = r.headers.get('transfer-receipt')!;
  assert.equal((await verifyApi(receipt)).body.ok, true);
  const trimmed = await tlog().trimBefore(Date.now() + 1000);
  assert.ok('checkpoints' in trimmed && trimmed.removed > 0, JSON.stringify(trimmed));
  const v = await verifyApi(receipt);
  assert.equal(v.status, 200, v.text);
  assert.equal(v.body.ok, false);
  assert.equal(v.body.trimmed, true);
  assert.equal(v.body.tampering, false);
  const cli = await verifyCli(receipt);
  assert.equal(cli.code, 3, cli.stdout + cli.stderr);
  assert.equal(JSON.parse(cli.stdout).trimmed, true);
});

test('admin API and CLI: a genuine receipt is included; its entry deleted by a second Redis client is tampering; a flipped signature byte is invalid', async () => {
  const user = findUser(USERS, active);
  const r = await pullOne(user.id);
  const receipt = r.headers.get('transfer-receipt')!;
  const { body } = await payloadOf(receipt);
  const token = await p.token('service_delivery');
  const page = await partnerGet(stack, token, '/v1/subjects?purpose=service_delivery&limit=50');
  const pageReceipt = page.body.receipts[0] as string;

  const ok = await verifyApi(receipt);
  assert.equal(ok.status, 200, ok.text);
  assert.deepEqual({ ok: ok.body.ok, tampering: ok.body.tampering, entries: ok.body.entries, subjectChecked: ok.body.subjectChecked }, { ok: true, tampering: false, entries: 1, subjectChecked: true });
  const okPage = await verifyApi(pageReceipt);
  assert.equal(okPage.body.ok, true, okPage.text);
  assert.equal(okPage.body.released, page.body.items.length);
  assert.equal(okPage.body.subjectChecked, false);
  // With the page's subjects as received, each is checked against its entry; in another order they are not the receipt's.
  const sent = page.body.items.map((i: { subject: string }) => i.subject);
  const withSubjects = await auditor('POST', '/admin/v1/transfers/receipts/verify', { body: { receipt: pageReceipt, subjects: sent } });
  assert.deepEqual({ ok: withSubjects.body.ok, subjectChecked: withSubjects.body.subjectChecked }, { ok: true, subjectChecked: true }, withSubjects.text);
  const swapped = await auditor('POST', '/admin/v1/transfers/receipts/verify', { body: { receipt: pageReceipt, subjects: [sent[1], sent[0], ...sent.slice(2)] } });
  assert.equal(swapped.status, 400);
  assert.ok(fieldsOf(swapped).has('subjects'), swapped.text);
  const okCli = await verifyCli(receipt);
  assert.equal(okCli.code, 0, okCli.stdout + okCli.stderr);
  assert.equal(JSON.parse(okCli.stdout).ok, true);

  // Invalid: one flipped signature byte. Refused, not checked against the log.
  const forged = flipSignatureByte(receipt);
  const bad = await verifyApi(forged);
  assert.equal(bad.status, 400);
  assert.equal(bad.body.code, 'validation_failed');
  assert.match(fieldsOf(bad).get('receipt')!, /signature/);
  const badCli = await verifyCli(forged);
  assert.equal(badCli.code, 1);
  assert.equal(JSON.parse(badCli.stdout).invalid, true);

  // The attacker removes the single pull's entry, and one entry in the middle of the page.
  const rows = await entryRows(attacker, tlog());
  const find = (chain: string, seq: number) => rows.find((m) => { const e = JSON.parse(m.message.e!) as TransferEntry; return e.chain === chain && e.seq === seq; })!;
  await attacker.xDel(tlog().keys.chain(body.entry.chain).entries, find(body.entry.chain, body.entry.seq).id);
  const seg = (await payloadOf(pageReceipt)).body.segments[0];
  const middle = decodeRanges(seg.released)![3]!;
  await attacker.xDel(tlog().keys.chain(seg.chain).entries, find(seg.chain, middle).id);

  const gone = await verifyApi(receipt);
  assert.equal(gone.status, 200, gone.text);
  assert.deepEqual({ ok: gone.body.ok, tampering: gone.body.tampering, chain: gone.body.chain, seq: gone.body.seq, reason: gone.body.reason },
    { ok: false, tampering: true, chain: body.entry.chain, seq: body.entry.seq, reason: 'entry_missing' });
  const gonePage = await verifyApi(pageReceipt);
  assert.deepEqual({ tampering: gonePage.body.tampering, chain: gonePage.body.chain, seq: gonePage.body.seq }, { tampering: true, chain: seg.chain, seq: middle });
  const goneCli = await verifyCli(receipt);
  assert.equal(goneCli.code, 1, goneCli.stdout + goneCli.stderr);
  assert.deepEqual((({ tampering, chain, seq }) => ({ tampering, chain, seq }))(JSON.parse(goneCli.stdout)), { tampering: true, chain: body.entry.chain, seq: body.entry.seq });
  const text = await runCli(['log', 'verify', '--receipt', join(tmp('receipt'), 'x.jws')], cliEnv);
  assert.equal(text.code, 1, 'an unreadable receipt file is not a pass');
});

test('only auditors verify receipts, and a malformed body names the field', async () => {
  const admin = adminApi(stack, stack.adminToken);
  const r = await pullOne(findUser(USERS, active).id);
  const forbidden = await admin('POST', '/admin/v1/transfers/receipts/verify', { body: { receipt: r.headers.get('transfer-receipt') } });
  assert.equal(forbidden.status, 403);
  const missing = await auditor('POST', '/admin/v1/transfers/receipts/verify', { body: {} });
  assert.equal(missing.status, 400);
  assert.equal(fieldsOf(missing).get('receipt'), 'required');
  const junk = await verifyApi('not.a-receipt');
  assert.equal(junk.status, 400);
  assert.ok(fieldsOf(junk).has('receipt'));
});
