// Issue [3/6] item 1 and 3, must-show: `kill -9` of a gateway right after a release, then a
// restart on the same Redis and anchors file: verify finds 0 unsigned entries and the released
// entry covered by an anchored, signed batch checkpoint. And a gateway whose anchors file cannot be
// written answers 503 audit_unavailable and releases nothing.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fetch } from 'undici';
import { startStack, waitFor, type Stack } from './harness/stack.ts';
import { setupPartner, partnerGet, oauthToken } from './harness/partner.ts';
import { testCerts, tmp } from './harness/certs.ts';
import { BIN, runCli } from './harness/cli.ts';
import { freePort } from '../src/dev/local-redis.ts';
import { entryRows, entryCount } from './harness/transfer-log.ts';
import { logKeys } from '../src/transfer-log/keys.ts';

let childLog = '';
const stacks: Stack[] = [];
const children: ChildProcess[] = [];
after(async () => {
  for (const c of children) c.kill('SIGKILL');
  for (const s of stacks) await s.close();
});

const terms = { processingCountries: ['KZ'], purposes: { service_delivery: { categories: { username: 'clear', email: 'pseudonymise' } } } };
const payload = (jws: string) => JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString()) as Record<string, any>;

async function serve(stack: Stack, cfg: string, port: number): Promise<{ child: ChildProcess; exited: Promise<unknown> }> {
  const child = spawn(process.execPath, [BIN, 'serve'], { env: { ...process.env, GATEWAY_CONFIG: cfg }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  // Its warnings (no personal data in them) explain a failed assertion.
  child.stdout!.on('data', (d: Buffer) => { childLog += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { childLog += d.toString(); });
  const exited = new Promise((r) => child.on('exit', r));
  // Ready, not just up: the policy caches load after the listener opens (a token request before then is 503).
  await waitFor(async () => (await fetch(`https://localhost:${port}/readyz`, { dispatcher: stack.client }).catch(() => null))?.status === 200, 30_000, 100);
  return { child, exited };
}

test('kill -9 right after a release, then a restart: verify reports 0 unsigned entries and the released entry covered', async () => {
  const stack = await startStack({ users: 50 });
  stacks.push(stack);
  const p = await setupPartner(stack, terms);
  const page = await partnerGet(stack, await p.token('service_delivery'), '/v1/subjects?purpose=service_delivery&limit=5');
  assert.equal(page.status, 200, page.text);
  const subject = page.body.items[0].subject as string;

  const c = await testCerts();
  const client = { ca: c.ca, cert: c.cert('gateway-client'), key: c.key('gateway-client') };
  const port = await freePort();
  const anchors = join(tmp('anchors'), 'anchors.jsonl');
  const cfg = join(tmp('cfg'), 'gw.json');
  writeFileSync(cfg, JSON.stringify({
    // One worker: the test is about the process that released being SIGKILLed, and its second
    // release must land on the same chain as the first (each worker of `serve` seals its own chain,
    // issue 17 item 2; with the default of one per core, half the runs put them on two chains).
    server: { port, workers: 1, tls: { cert: c.cert('gateway'), key: c.key('gateway'), ca: c.ca } },
    upstream: { url: `https://localhost:${stack.store.port}`, tls: client },
    redis: { url: stack.redis.url, tls: client }, keys: { dir: stack.config.keys.dir }, log: { level: 'warn' },
    transferLog: { anchors: { file: anchors } },
  }));
  const gw = { url: `https://localhost:${port}`, client: stack.client };
  const first = await serve(stack, cfg, port);
  const tok = await oauthToken(gw, p.clientId, p.clientSecret, { grant_type: 'client_credentials', scope: 'service_delivery' });
  assert.equal(tok.status, 200, `${tok.status} ${JSON.stringify(tok.body)}\n${childLog}`);
  const one = await partnerGet(gw, tok.body.access_token, `/v1/subjects/${subject}?purpose=service_delivery`);
  assert.equal(one.status, 200, `${one.text}\n${childLog}`);
  // A second release after it, so the first one's anchor line is not the newest (see the end).
  const two = await partnerGet(gw, tok.body.access_token, `/v1/subjects/${page.body.items[1].subject}?purpose=service_delivery`);
  assert.equal(two.status, 200, `${two.text}\n${childLog}`);
  first.child.kill('SIGKILL');
  await first.exited;

  await serve(stack, cfg, port); // restarted on the same Redis and anchors file
  const v = await runCli(['log', 'verify', '--anchors', anchors, '--json'], { GATEWAY_CONFIG: cfg });
  assert.equal(v.code, 0, v.stdout + v.stderr);
  const r = JSON.parse(v.stdout);
  assert.equal(r.ok, true);
  assert.equal(r.unsigned, 0);

  // The released entry, and the anchored signed batch checkpoint that covers it.
  const all = await entryRows(stack.gateway.deps.redis, { keys: logKeys() });
  const entry = all.map((m) => JSON.parse(m.message.e!)).find((e) => e.id === one.body.transferId);
  assert.ok(entry, 'the release was logged');
  const lines = readFileSync(anchors, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((l) => l.stream === 'checkpoints');
  const covering = lines.map((l) => payload(l.jws)).find((b) => b.kind === 'batch' && b.chain === entry.chain && b.first <= entry.seq && b.seq >= entry.seq);
  assert.ok(covering, 'an anchored batch checkpoint covers the released entry');
  // The premise of the deletion below: a later line of the same chain, so the deleted one is not
  // "just stored, line pending" (only a chain's newest statement may be).
  assert.ok(lines.map((l) => payload(l.jws)).some((b) => b.chain === entry.chain && b.seq > covering.seq), 'a later anchored checkpoint of the same chain');
  const cps = ((await stack.gateway.deps.redis.xRange(logKeys().chain(entry.chain).checkpoints, '-', '+')) ?? []).map((m) => payload(m.message.jws!));
  assert.ok(cps.some((b) => b.chain === entry.chain && b.seq === covering.seq && b.hash === covering.hash), 'and it is in Redis too');

  // The CLI against the anchors file with that line deleted: exit 1, naming the chain and seq
  // (the next line of the chain no longer links to the one before it).
  const text = readFileSync(anchors, 'utf8').split('\n').filter(Boolean);
  writeFileSync(anchors, text.filter((l) => !(JSON.parse(l).jws && payload(JSON.parse(l).jws).seq === covering.seq && payload(JSON.parse(l).jws).chain === entry.chain)).map((l) => `${l}\n`).join(''));
  const bad = await runCli(['log', 'verify', '--anchors', anchors], { GATEWAY_CONFIG: cfg });
  assert.equal(bad.code, 1, bad.stdout + bad.stderr);
  assert.match(bad.stdout, new RegExp(`transfer log NOT intact: first broken entry: chain ${entry.chain} seq ${covering.first}: anchor_missing`));
});

test('an anchors file that cannot be written: the pull answers 503 audit_unavailable and releases nothing', async () => {
  const parent = join(tmp('anchors'), 'not-a-dir');
  writeFileSync(parent, 'x'); // its child path fails with ENOTDIR, even for root
  const stack = await startStack({ users: 50, extra: { transferLog: { anchors: { file: join(parent, 'anchors.jsonl') } } } });
  stacks.push(stack);
  const p = await setupPartner(stack, terms);
  const token = await p.token('service_delivery');
  const page = await partnerGet(stack, token, '/v1/subjects?purpose=service_delivery&limit=5');
  assert.equal(page.status, 503, page.text);
  assert.equal(page.body.code, 'audit_unavailable');
  assert.equal(page.body.items, undefined);
  assert.doesNotMatch(page.text, /"data"/, 'no record in the answer');
  assert.equal(await entryCount(stack.gateway.deps.redis, { keys: logKeys() }), 0, 'nothing logged, so nothing released');
});
