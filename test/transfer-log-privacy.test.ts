// Issue 5 "Recipients" and "subjectRef", must-show 6 and 7: a user's recipients come from the
// index kept at append time and list exactly the partners that received that user's data; no
// user id, phone, e-mail or pseudonym from the test data is anywhere in Redis or its AOF.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { logFixture, released, denied, entryCount } from './harness/transfer-log.ts';
import { testCerts, tmp } from './harness/certs.ts';
import { startLocalRedis } from '../src/dev/local-redis.ts';
import { syntheticUser } from '../src/core-store/synthetic.ts';
import type { Redis } from '../src/deps.ts';

const c = await testCerts();
const dataDir = tmp('redis-privacy');
const server = await startLocalRedis({ ca: c.ca, cert: c.cert('redis'), key: c.key('redis'), dataDir });
const fx = await logFixture(server);
after(async () => { await fx.close(); await server.stop(); });

test('recipients lists the partners that received the user\'s data, and nothing else', async () => {
  await (await fx.client()).flushAll();
  const log = await fx.newLog();
  const A = 'u_rcpt_a';
  const B = 'u_rcpt_b';
  const first = await log.append(released({ userId: A, partnerId: 'p_a', purpose: 'advertising', categories: ['gender', 'email'] }));
  await sleep(5);
  await log.append(denied({ userId: A, partnerId: 'p_c', reason: 'consent_required' }));
  await log.append(released({ userId: B, partnerId: 'p_c', purpose: 'service_delivery', categories: ['phone'] }));
  const b1 = await log.append(released({ userId: A, partnerId: 'p_b', purpose: 'service_delivery', categories: ['phone'], legalBasis: 'contract' }));
  await sleep(5);
  const last = await log.append(released({ userId: A, partnerId: 'p_a', purpose: 'marketing_research', categories: ['date_of_birth'] }));
  await log.append(denied({ userId: A, partnerId: 'p_d', reason: 'purpose_not_allowed' }));

  const want = [
    { partnerId: 'p_a', purposes: ['advertising', 'marketing_research'], categories: ['date_of_birth', 'email', 'gender'], firstAt: first.at, lastAt: last.at, count: 2, keyVersions: [1], crossBorderPurposes: [], crossBorderCountries: [] },
    { partnerId: 'p_b', purposes: ['service_delivery'], categories: ['phone'], firstAt: b1.at, lastAt: b1.at, count: 1, keyVersions: [1], crossBorderPurposes: [], crossBorderCountries: [] },
  ];
  assert.deepEqual(await log.recipients(A), { items: want });
  assert.deepEqual((await log.recipients(B)).items.map((r) => r.partnerId), ['p_c']);
  assert.deepEqual(await log.recipients('u_never_seen'), { items: [] });

  // Kept at append time, not scanned: the answer does not need the entries.
  await (await fx.client()).del(log.keys.chain(log.writer.chain).entries);
  assert.deepEqual(await log.recipients(A), { items: want });
});

/** Everything Redis holds: key names, stream entries, hash fields and values, strings. */
async function dumpRedis(r: Redis): Promise<string> {
  const out: string[] = [];
  for (const keys of [await r.keys('*')]) { // KEYS: a plain command in every mode (issue 18)
    for (const key of keys) {
      out.push(key);
      const type = await r.type(key);
      if (type === 'stream') for (const m of ((await r.xRange(key, '-', '+')) ?? [])) out.push(m.id, JSON.stringify(m.message));
      else if (type === 'hash') out.push(JSON.stringify(await r.hGetAll(key)));
      else if (type === 'string') out.push((await r.get(key)) ?? '');
      else out.push(`unexpected ${type}`);
    }
  }
  return out.join('\n');
}

test('no user id, phone, e-mail or pseudonym from the test data is in Redis or its append-only file', async () => {
  const r = await fx.client();
  await r.flushAll();
  const log = await fx.newLog();
  const users = Array.from({ length: 40 }, (_, i) => syntheticUser(i));
  // Pseudonyms as partners see them (RULES 25: keyed HMAC per partner), to prove none leaks in.
  const pseudonym = (partner: string, id: string) => createHmac('sha256', fx.keys.pseudonymMaster).update(`${partner}\0${id}`).digest('base64url');
  const secrets: string[] = [];
  for (const [i, u] of users.entries()) {
    const partnerId = ['p_a', 'p_b', 'p_c'][i % 3]!;
    secrets.push(u.id, u.phone, u.email, pseudonym(partnerId, u.id));
    await log.append(i % 4 === 3 ? denied({ userId: u.id, partnerId }) : released({ userId: u.id, partnerId, categories: ['phone', 'email'] }));
  }
  await log.checkpointNow();
  for (const u of users.slice(0, 3)) assert.equal((await log.recipients(u.id)).items.length, 1, 'control: the data is there');
  assert.equal(await entryCount(r, log), 40);

  const dump = await dumpRedis(r);
  const aofDir = join(dataDir, 'appendonlydir');
  const aof = readdirSync(aofDir).map((f) => readFileSync(join(aofDir, f), 'latin1')).join('\n');
  assert.ok(aof.includes(log.writer.chain), 'control: the AOF holds the log');
  for (const s of secrets) {
    assert.ok(!dump.includes(s), `found test data in Redis: ${s}`);
    assert.ok(!aof.includes(s), `found test data in the AOF: ${s}`);
  }
});
