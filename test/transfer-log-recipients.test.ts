// Issue 15 item 5 (RULES 12, 48): the recipients index that addresses withdrawal notices is checked
// by verify against the entries, and `partner-gateway log rebuild-recipients` restores it. The
// attacker is a second Redis client writing to the index directly.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startStack, type Stack } from './harness/stack.ts';
import { setupPartner, partnerGet, type TestPartner } from './harness/partner.ts';
import { adminApi, type Api } from './harness/admin.ts';
import { runCli } from './harness/cli.ts';
import { tmp } from './harness/certs.ts';
import { createPseudonymizer } from '../src/pseudonym/subject.ts';
import { createRedisClient, type Redis } from '../src/deps.ts';
import { checkRecipients } from '../src/transfer-log/recipients-check.ts';
import { singleTopology } from '../src/transfer-log/topology.ts';
import { RecipientsTally } from '../src/transfer-log/recipients-tally.ts';
import { scanStream } from '../src/transfer-log/scan.ts';
import { readAudit } from '../src/auth/admin-audit.ts';

let stack: Stack;
let auditor: Api;
let core: Api;
let attacker: Redis;
let partner: TestPartner;
let token: string;
let env: Record<string, string>;
/** userId -> the pseudonym the partner received. */
let got: Map<string, string>;

before(async () => {
  stack = await startStack({ users: 40, extra: { notices: { workerIntervalMs: 50 } } });
  const admin = adminApi(stack, stack.adminToken);
  auditor = adminApi(stack, (await admin('POST', '/admin/v1/tokens', { body: { role: 'auditor' } })).body.token);
  core = adminApi(stack, (await admin('POST', '/admin/v1/tokens', { body: { role: 'core_store' } })).body.token);
  partner = await setupPartner(stack, { processingCountries: ['KZ'], purposes: { service_delivery: { categories: { phone: 'clear' } } } });
  token = await partner.token('service_delivery');
  const page = await partnerGet(stack, token, '/v1/subjects?purpose=service_delivery&limit=10');
  assert.equal(page.status, 200, page.text);
  const ps = createPseudonymizer(stack.gateway.deps.keys.pseudonymMaster);
  got = new Map(page.body.items.map((i: { subject: string }) => [ps.decode(i.subject, partner.id, [1])!.userId, i.subject]));
  assert.ok(got.size >= 3, 'some users released');
  const tls = stack.config.redis.tls;
  attacker = createRedisClient(stack.redis.url, tls, 2000);
  attacker.on('error', () => undefined);
  await attacker.connect();
  const config = join(tmp('cli'), 'gateway.json');
  writeFileSync(config, JSON.stringify({ redis: { url: stack.redis.url, tls }, keys: { dir: stack.config.keys.dir } }));
  env = { GATEWAY_CONFIG: config };
});
after(async () => {
  attacker.destroy();
  await stack.close();
});

const verify = async () => {
  const r = await auditor('GET', '/admin/v1/transfers/verify');
  assert.equal(r.status, 200, r.text);
  return r;
};
const users = () => [...got.keys()];
const refOf = (u: string) => stack.gateway.deps.transferLog.subjectRef(u);
// Issue [6/6] item 2: records are kept per chain; this gateway writes one chain.
const chainKeys = () => stack.gateway.deps.transferLog.keys.chain(stack.gateway.deps.transferLog.writer.chain);
const recordKey = (u: string) => chainKeys().recipients(refOf(u));

test('a deleted recipients record is drift naming the subjectRef; rebuild-recipients restores it; a withdrawal then reaches the partner', async () => {
  const clean = await verify();
  assert.equal(clean.body.ok, true, clean.text);
  assert.deepEqual([clean.body.recipients.ok, clean.body.recipients.driftCount], [true, 0]);
  assert.ok(clean.body.recipients.subjects >= got.size);

  const user = users()[0]!;
  assert.equal(await attacker.del(recordKey(user)), 1, 'the attacker deletes the record');
  const lost = await core('POST', '/admin/v1/events', { body: { type: 'subject_erased', userId: user, at: '2026-11-24T09:00:00Z', id: 'evt-rcpt-lost' } });
  assert.deepEqual([lost.status, lost.body.notices], [202, 0], 'why it matters: without the record the erasure reaches nobody');

  const broken = await verify();
  assert.equal(broken.body.ok, false);
  assert.equal(broken.body.brokenAt, undefined, 'the chains themselves are intact');
  assert.deepEqual(broken.body.recipients.drift, [{ subjectRef: refOf(user), partnerId: null, problem: 'missing_record', expected: [partner.id] }]);
  assert.ok(!broken.text.includes(user), 'never the raw user id');

  const cliBroken = await runCli(['log', 'verify'], env);
  assert.equal(cliBroken.code, 1, cliBroken.stdout + cliBroken.stderr);
  assert.ok(cliBroken.stdout.includes(`subject ${refOf(user)}: missing_record`), cliBroken.stdout);

  const rebuilt = await runCli(['log', 'rebuild-recipients'], env);
  assert.equal(rebuilt.code, 0, rebuilt.stdout + rebuilt.stderr);
  assert.ok(rebuilt.stdout.includes(`subject ${refOf(user)}: missing_record expected ${partner.id}`), rebuilt.stdout);
  assert.match(rebuilt.stdout, /1 drift \(1 records rewritten\)/);
  assert.ok(!rebuilt.stdout.includes(user));

  const audit = (await readAudit(stack.gateway.deps.redis, 5)).items.filter((e) => e.action === 'transfer_log.recipients.rebuild');
  assert.equal(audit.length, 1, 'the rewrite is on the admin audit trail');
  assert.match(audit[0]!.actor.tokenId, /^cli:/);
  assert.deepEqual((audit[0]!.after as { repaired: number }).repaired, 1);

  const again = await runCli(['log', 'rebuild-recipients', '--json'], env);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual([JSON.parse(again.stdout).driftCount, JSON.parse(again.stdout).repaired], [0, 0], 'idempotent: nothing left to change');

  const fixed = await verify();
  assert.equal(fixed.body.ok, true, fixed.text);
  const items = (await auditor('GET', `/admin/v1/subjects/${encodeURIComponent(user)}/recipients`)).body.items;
  assert.deepEqual(items.map((i: { partnerId: string; purposes: string[]; keyVersions: number[] }) => [i.partnerId, i.purposes, i.keyVersions]),
    [[partner.id, ['service_delivery'], [1]]]);

  const ev = await core('POST', '/admin/v1/events', { body: { type: 'consent_withdrawn', userId: user, purposes: ['service_delivery'], at: '2026-11-24T10:00:00Z', id: 'evt-rcpt-rebuilt' } });
  assert.deepEqual([ev.status, ev.body.notices], [202, 1], ev.text);
  const n = (await partnerGet(stack, token, '/v1/notifications')).body.items;
  assert.deepEqual(n.map((x: { type: string; subject: string }) => [x.type, x.subject]), [['consent_withdrawn', got.get(user)]]);
});

test('a removed partner, a lowered count, a forged partner and a dropped key version are each drift, and rebuild undoes them all', async () => {
  const [a, b, c] = users().slice(1, 4) as [string, string, string];
  const p = partner.id;
  const before = await attacker.hGetAll(recordKey(b));
  await attacker.hDel(recordKey(a), [`${p}\x1fcount`, `${p}\x1ffirst`, `${p}\x1flast`, `${p}\x1fpurpose\x1fservice_delivery`, `${p}\x1fcat\x1fphone`, `${p}\x1fkv\x1f1`]);
  await attacker.hSet(recordKey(a), 'p-other\x1fcount', '1'); // the record stays, with someone else in it
  await attacker.hSet(recordKey(b), `${p}\x1fcount`, '0');
  await attacker.hDel(recordKey(c), `${p}\x1fkv\x1f1`);
  const forged = 'forged-subject-ref';
  await attacker.hSet(chainKeys().recipients(forged), { [`${p}\x1fcount`]: '3', [`${p}\x1flast`]: '2026-01-01T00:00:00.000Z' });

  const r = (await verify()).body;
  assert.equal(r.ok, false);
  const seen = r.recipients.drift.map((d: { subjectRef: string; partnerId: string | null; problem: string }) => `${d.subjectRef} ${d.partnerId} ${d.problem}`).sort();
  assert.deepEqual(seen, [
    `${forged} ${p} extra_partner`,
    `${refOf(a)} ${p} missing_partner`,
    `${refOf(a)} p-other extra_partner`,
    `${refOf(b)} ${p} count`,
    `${refOf(c)} ${p} missing_facets`,
  ].sort());
  assert.deepEqual(r.recipients.drift.find((d: { problem: string }) => d.problem === 'missing_facets').expected, ['kv:1']);

  const rebuilt = await runCli(['log', 'rebuild-recipients'], env);
  assert.equal(rebuilt.code, 0, rebuilt.stdout + rebuilt.stderr);
  assert.equal((await verify()).body.ok, true);
  assert.deepEqual(await attacker.hGetAll(recordKey(b)), before, 'restored exactly');
  assert.equal(await attacker.exists(chainKeys().recipients(forged)), 0, 'a record no entry supports is removed');
});

test('releases appended after the scan: verify catches up instead of reporting drift, and a rebuild never overwrites them', async () => {
  // Deterministic interleaving: a tally scanned before the releases, as a verify or rebuild that
  // is slower than the appends would hold; the module must read past it, not trust it.
  const redis = stack.gateway.deps.redis;
  const keys = stack.gateway.deps.transferLog.keys;
  const stale = async () => {
    const tally = new RecipientsTally();
    for await (const raw of scanStream(redis, chainKeys().entries, { direction: 'asc' })) tally.feed(raw);
    return tally;
  };
  const [u1, u2] = users().slice(4, 6) as [string, string];
  const pull = async (u: string) => assert.equal((await partnerGet(stack, token, `/v1/subjects/${got.get(u)}?purpose=service_delivery`)).status, 200);

  let tally = await stale();
  await pull(u1);
  const chain = stack.gateway.deps.transferLog.writer.chain;
  const checked = await checkRecipients(redis, singleTopology(redis), keys, [chain], new Map([[chain, tally]]), { trimmed: false, repair: false });
  assert.deepEqual([checked.ok, checked.drift], [true, []], 'a release after the scan is not drift');

  tally = await stale();
  await attacker.del(recordKey(u2));
  await pull(u2); // appended to the deleted record after the rebuild scanned the log
  const rebuilt = await checkRecipients(redis, singleTopology(redis), keys, [chain], new Map([[chain, tally]]), { trimmed: false, repair: true });
  assert.deepEqual([rebuilt.ok, rebuilt.repaired], [true, 1]);
  const count = (await auditor('GET', `/admin/v1/subjects/${encodeURIComponent(u2)}/recipients`)).body.items[0].count;
  assert.equal(count, 2, 'the bulk release and the single pull, none lost to the rewrite');
  assert.equal((await verify()).body.ok, true);
});

test('rebuild-recipients is in --help; a stray option is a usage error (exit 2)', async () => {
  const help = await runCli(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /log rebuild-recipients \[--json\]/);
  const bad = await runCli(['log', 'rebuild-recipients', '--jwks', 'x.json'], env);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /partner-gateway log rebuild-recipients \[--json\]/);
});
