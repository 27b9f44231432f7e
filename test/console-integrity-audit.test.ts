// Issue 16 pages 4 and 8 without a browser: Integrity (verify with progress, the last checkpoint
// per chain, the anchors' status, the JWKS download, a pasted receipt checked like the admin API,
// a failed verify's incident) and Audit (newest first, filters, sealed cursors, before/after
// diffs). One stack; real TLS Redis, the real HTTPS core store, real pulls.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { fetch } from 'undici';
import { startStack, waitFor, type Stack } from './harness/stack.ts';
import { adminApi, type Api } from './harness/admin.ts';
import { setupPartner, partnerGet, type TestPartner } from './harness/partner.ts';
import { readAudit, type AuditEntry } from '../src/auth/admin-audit.ts';
import type { VerifyProgress } from '../src/transfer-log/index.ts';

let stack: Stack;
let api: Api;
let partner: TestPartner;
let auditorToken: string;
let receipt: string;
let auditor: { cookie: string; csrf: string };

interface Reply { status: number; text: string; headers: Headers; location: string | null }

async function req(method: string, path: string, o: { cookie?: string; form?: Record<string, string>; headers?: Record<string, string>; origin?: string } = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...o.headers };
  if (o.cookie) headers.cookie = o.cookie;
  if (o.form) headers['content-type'] = 'application/x-www-form-urlencoded';
  if (method === 'POST') headers.origin = o.origin ?? stack.adminUrl;
  const res = await fetch(`${stack.adminUrl}${path}`, {
    method, headers, redirect: 'manual', dispatcher: stack.client,
    ...(o.form ? { body: new URLSearchParams(o.form).toString() } : {}),
  });
  return { status: res.status, text: await res.text(), headers: res.headers as unknown as Headers, location: res.headers.get('location') };
}

async function signIn(token: string): Promise<{ cookie: string; csrf: string }> {
  const r = await req('POST', '/console/sign-in', { form: { token } });
  assert.equal(r.status, 303, r.text);
  const cookie = `__Host-pg-console=${/__Host-pg-console=([^;]+)/.exec(r.headers.get('set-cookie') ?? '')?.[1]}`;
  const page = await req('GET', '/console/integrity', { cookie });
  assert.equal(page.status, 200, page.text);
  return { cookie, csrf: /name="_csrf" value="([^"]+)"/.exec(page.text)![1]! };
}

const auditEntries = async (n = 500): Promise<AuditEntry[]> => (await readAudit(stack.gateway.deps.redis, n)).items;
const text = (h: string) => h.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');

/** Runs verify from the console (htmx) and polls the status fragment until the run has ended. */
async function runVerify(s: { cookie: string; csrf: string }): Promise<string> {
  const started = await req('POST', '/console/integrity/verify', { cookie: s.cookie, headers: { 'hx-request': 'true', 'x-csrf-token': s.csrf } });
  assert.equal(started.status, 200, started.text);
  assert.match(started.text, /id="verify-status"/);
  let frag = started.text;
  await waitFor(async () => {
    frag = (await req('GET', '/console/integrity/verify/status', { cookie: s.cookie })).text;
    return !frag.includes('hx-trigger="every 1s"');
  }, 20_000, 100);
  return frag;
}

before(async () => {
  stack = await startStack({ users: 50, extra: { console: { tokenLogin: true } } });
  api = adminApi(stack, stack.adminToken);
  auditorToken = (await api('POST', '/admin/v1/tokens', { body: { role: 'auditor', label: 'integrity test' } })).body.token;
  partner = await setupPartner(stack, { processingCountries: ['KZ'], purposes: { service_delivery: { categories: { phone: 'clear', username: 'clear' } } } });
  const token = await partner.token('service_delivery');
  const list = await partnerGet(stack, token, '/v1/subjects?purpose=service_delivery&limit=3');
  assert.equal(list.status, 200, list.text);
  const one = await partnerGet(stack, token, `/v1/subjects/${list.body.items[0].subject}?purpose=service_delivery`);
  assert.equal(one.status, 200, one.text);
  receipt = one.headers.get('transfer-receipt')!;
  assert.ok(receipt, 'a real pull hands out a Transfer-Receipt');
  await stack.gateway.deps.transferLog.checkpointNow();
  auditor = await signIn(auditorToken);
});
after(() => stack?.close());

test('verify reports progress (chains done of total, entries) and the same result as without it', async () => {
  const tlog = stack.gateway.deps.transferLog;
  const seen: VerifyProgress[] = [];
  const withProgress = await tlog.verify({ onProgress: (p) => seen.push(p) });
  const plain = await tlog.verify();
  assert.deepEqual(withProgress, plain, 'the callback does not change the result');
  assert.equal(plain.ok, true);
  const chains = (await stack.gateway.deps.redis.sMembers(tlog.keys.chains)).length;
  assert.ok(chains >= 1);
  assert.deepEqual(seen.map((p) => p.phase).filter((p, i, a) => a.indexOf(p) === i), ['checkpoints', 'entries', 'anchors', 'recipients', 'done']);
  assert.deepEqual(seen.find((p) => p.phase === 'entries'), { phase: 'entries', chainsDone: 0, chainsTotal: chains, entries: 0 });
  assert.deepEqual(seen.at(-1), { phase: 'done', chainsDone: chains, chainsTotal: chains, entries: plain.entries });
});

test('integrity page: each chain\'s head and last signed checkpoint (seq, time, hash) as the log holds them, the anchors, a verify button and the JWKS link', async () => {
  const page = await req('GET', '/console/integrity', { cookie: auditor.cookie });
  assert.equal(page.status, 200, page.text);
  const st = await stack.gateway.deps.transferLog.status();
  assert.ok(st.chains.length >= 1);
  for (const c of st.chains) {
    assert.ok(c.checkpoint, 'checkpointNow signed every chain');
    assert.equal(c.checkpoint.from, 'checkpoint');
    const row = new RegExp(`<code>${c.chain}</code></th><td>${c.head}</td>\\s*<td>${c.checkpoint.seq}</td>\\s*<td>${c.checkpoint.at.replace(/\./g, '\\.')}</td>\\s*<td><code class="hash">${c.checkpoint.hash}</code>`);
    assert.match(page.text, row);
  }
  assert.ok(st.registry && 'n' in st.registry);
  assert.match(text(page.text), new RegExp(`Chain registry statement ${st.registry.n}, signed`));
  assert.match(text(page.text), /Anchors file \(sink\) not checked yet: run verify/);
  assert.match(text(page.text), /Witness no witness configured/);
  assert.match(page.text, /<form method="post" action="\/console\/integrity\/verify"/);
  assert.match(page.text, /href="\/console\/integrity\/jwks.json" download/);
  assert.match(page.text, /<a href="\/console\/integrity" aria-current="page">Integrity<\/a>/);
  assert.ok((await auditEntries()).some((e) => e.action === 'console.integrity.view' && e.actor.role === 'auditor'), 'the view is audited');
});

test('run verify from the console: progress fragment polls, ends "intact", the anchors file shows ok; start and result are audited with the staff identity', async () => {
  const frag = await runVerify(auditor);
  assert.match(text(frag), /Verified: the log is intact\./);
  const v = await stack.gateway.deps.transferLog.verify();
  assert.match(text(frag), new RegExp(`${v.entries} entries in ${v.chains} chains`));
  const page = await req('GET', '/console/integrity', { cookie: auditor.cookie });
  assert.match(text(page.text), /Anchors file \(sink\) ok ?: \d+ lines agree with Redis/);
  const entries = await auditEntries();
  const start = entries.find((e) => e.action === 'console.integrity.verify');
  const result = entries.find((e) => e.action === 'console.integrity.verify.result');
  assert.ok(start && result, 'both audited');
  assert.equal(start.actor.role, 'auditor');
  assert.equal((result.after as any).ok, true);
  assert.equal((result.after as any).staff.role, 'auditor');
  // A plain form post (no htmx) starts it too and goes back to the page.
  const plain = await req('POST', '/console/integrity/verify', { cookie: auditor.cookie, form: { _csrf: auditor.csrf } });
  assert.equal(plain.status, 303);
  assert.equal(plain.location, '/console/integrity');
  await runVerify(auditor);
});

test('a verify POST without the CSRF token, or from another origin, is refused (403) and starts nothing', async () => {
  const before = (await auditEntries()).filter((e) => e.action === 'console.integrity.verify').length;
  const noToken = await req('POST', '/console/integrity/verify', { cookie: auditor.cookie, form: {} });
  assert.equal(noToken.status, 403);
  const foreign = await req('POST', '/console/integrity/verify', { cookie: auditor.cookie, form: { _csrf: auditor.csrf }, origin: 'https://evil.example' });
  assert.equal(foreign.status, 403);
  const receiptNoToken = await req('POST', '/console/integrity/receipt', { cookie: auditor.cookie, form: { receipt } });
  assert.equal(receiptNoToken.status, 403);
  assert.equal((await auditEntries()).filter((e) => e.action === 'console.integrity.verify').length, before);
});

test('the JWKS download is the JWKS the partner listener publishes, as an attachment', async () => {
  const dl = await req('GET', '/console/integrity/jwks.json', { cookie: auditor.cookie });
  assert.equal(dl.status, 200);
  assert.match(dl.headers.get('content-type') ?? '', /^application\/jwk-set\+json/);
  assert.match(dl.headers.get('content-disposition') ?? '', /attachment; filename="jwks.json"/);
  const published = await (await fetch(`${stack.url}/.well-known/jwks.json`, { dispatcher: stack.client })).json();
  assert.deepEqual(JSON.parse(dl.text), published);
  const anon = await req('GET', '/console/integrity/jwks.json');
  assert.equal(anon.status, 303, 'no session: sign in first');
});

test('a pasted receipt is checked like POST /admin/v1/transfers/receipts/verify: valid; garbage or a forged signature marks the field (400); audited without the receipt', async () => {
  const ok = await req('POST', '/console/integrity/receipt', { cookie: auditor.cookie, form: { _csrf: auditor.csrf, receipt: `  ${receipt}\n` } });
  assert.equal(ok.status, 200, ok.text);
  assert.match(text(ok.text), new RegExp(`Receipt valid\\. .*Partner ${partner.id} Purpose service_delivery`));
  const viaApi = await adminApi(stack, auditorToken)('POST', '/admin/v1/transfers/receipts/verify', { body: { receipt } });
  assert.equal(viaApi.body.ok, true, 'the API agrees');

  const garbage = await req('POST', '/console/integrity/receipt', { cookie: auditor.cookie, form: { _csrf: auditor.csrf, receipt: 'not a receipt' } });
  assert.equal(garbage.status, 400);
  assert.match(garbage.text, /name="receipt" rows="4" spellcheck="false" aria-invalid="true" aria-describedby="receipt-error"/);
  const [h, p, sig] = receipt.split('.');
  const flipped = Buffer.from(sig!, 'base64url');
  flipped[5] = flipped[5]! ^ 1;
  const forged = await req('POST', '/console/integrity/receipt', { cookie: auditor.cookie, form: { _csrf: auditor.csrf, receipt: `${h}.${p}.${flipped.toString('base64url')}` } });
  assert.equal(forged.status, 400);
  assert.match(forged.text, /id="receipt-error"/);
  const empty = await req('POST', '/console/integrity/receipt', { cookie: auditor.cookie, form: { _csrf: auditor.csrf, receipt: '' } });
  assert.equal(empty.status, 400);
  assert.match(empty.text, /id="receipt-error"/);

  const checks = (await auditEntries()).filter((e) => e.action === 'console.integrity.receipt');
  assert.equal(checks.length, 1, 'the valid check is audited');
  assert.equal((checks[0]!.after as any).ok, 'true');
  assert.ok(!JSON.stringify(checks).includes(receipt.split('.')[1]!), 'never the receipt');
  assert.ok(!stack.logs.text().includes(receipt.split('.')[1]!), 'nor in the service log');
});

test('audit page: newest first, each entry opens to its before/after diff with the changed fields marked; filters by action, actor and time', async () => {
  const agr = `agr_${partner.id}`;
  assert.equal((await api('POST', `/admin/v1/agreements/${agr}/suspend`)).status, 200);
  assert.equal((await api('POST', `/admin/v1/agreements/${agr}/resume`)).status, 200);
  const page = await req('GET', `/console/audit?action=agreement.&actor=tok_bootstrap`, { cookie: auditor.cookie });
  assert.equal(page.status, 200, page.text);
  const items = [...page.text.matchAll(/<li class="audit-entry">([\s\S]*?)<\/li>/g)].map((m) => m[1]!);
  assert.ok(items.length >= 2);
  assert.match(text(items[0]!), /agreement\.resume on agr_/, 'newest first');
  assert.match(text(items[1]!), /agreement\.suspend on agr_/);
  assert.ok(items.every((i) => /<strong>agreement\./.test(i)), 'only the filtered action');
  // The suspend: status active -> suspended is the changed row; unchanged fields are not marked.
  const rows = [...items[1]!.matchAll(/<tr( class="changed")?><th scope="row"><code>([^<]+)<\/code>[^]*?<\/th><td>([^<]*)<\/td><td>([^<]*)<\/td><\/tr>/g)]
    .map((m) => ({ changed: Boolean(m[1]), field: m[2]!, before: m[3]!, after: m[4]! }));
  assert.deepEqual(rows.find((r) => r.field === 'status'), { changed: true, field: 'status', before: 'active', after: 'suspended' });
  assert.ok(rows.some((r) => !r.changed), 'some fields are the same before and after');
  assert.ok(rows.filter((r) => r.changed).every((r) => r.before !== r.after));

  const byAuditor = await req('GET', '/console/audit?action=console.integrity.receipt', { cookie: auditor.cookie });
  const actorId = (await auditEntries()).find((e) => e.action === 'console.integrity.receipt')!.actor.tokenId;
  assert.match(text(byAuditor.text), new RegExp(`console\\.integrity\\.receipt on transfer-log by .*${actorId}`));
  const otherActor = await req('GET', '/console/audit?action=console.integrity.receipt&actor=tok_bootstrap', { cookie: auditor.cookie });
  assert.match(otherActor.text, /No entries match\./);
  const past = await req('GET', '/console/audit?action=agreement.&to=2020-01-01T00:00', { cookie: auditor.cookie });
  assert.match(past.text, /No entries match\./, 'to excludes what came later');
  const future = await req('GET', '/console/audit?from=2999-01-01T00:00', { cookie: auditor.cookie });
  assert.match(future.text, /No entries match\./, 'from excludes what came earlier');
  const bad = await req('GET', '/console/audit?from=yesterday&action=%3Cscript%3E', { cookie: auditor.cookie });
  assert.equal(bad.status, 400);
  assert.match(bad.text, /aria-describedby="from-error"/);
  assert.match(bad.text, /aria-describedby="action-error"/);
  assert.ok(!bad.text.includes('<script>'), 'escaped');
  // An auditor gets no write control here (the only POST form is sign-out).
  assert.deepEqual([...page.text.matchAll(/<form method="post" action="([^"]+)"/g)].map((m) => m[1]), ['/console/sign-out']);
});

test('audit page: 50 a page with a sealed cursor bound to the filter; the next page carries on, another filter\'s cursor is refused', async () => {
  for (let i = 0; i < 55; i++) assert.equal((await api('POST', '/admin/v1/tokens', { body: { role: 'metrics', label: `page ${i}` } })).status, 201);
  const first = await req('GET', '/console/audit?action=token.mint', { cookie: auditor.cookie });
  const ids = (h: string) => [...h.matchAll(/<time datetime="([^"]+)">/g)].length;
  assert.equal(ids(first.text), 50);
  const next = /href="\/console\/audit\?([^"]+)">Older entries/.exec(first.text)?.[1]?.replace(/&amp;/g, '&');
  assert.ok(next, 'a link to older entries');
  const cursor = new URLSearchParams(next).get('cursor')!;
  assert.doesNotMatch(cursor, /^\d+-\d+$/, 'the stream id is sealed');
  const second = await req('GET', `/console/audit?${next}`, { cookie: auditor.cookie });
  assert.equal(second.status, 200);
  const minted = (await auditEntries(1000)).filter((e) => e.action === 'token.mint').length;
  assert.equal(ids(second.text), Math.min(50, minted - 50));
  const other = await req('GET', `/console/audit?action=agreement.&cursor=${encodeURIComponent(cursor)}`, { cookie: auditor.cookie });
  assert.equal(other.status, 400, 'a cursor opens only for its own filter');
});

test('a failed verify (the anchors file disagrees) shows the mismatch and links the incident it opened (RULES 50)', async () => {
  const file = stack.config.transferLog.anchors.file;
  const original = readFileSync(file, 'utf8');
  writeFileSync(file, `${original}not an anchor line\n`);
  try {
    const frag = await runVerify(auditor);
    assert.match(text(frag), /Verification failed\./);
    assert.match(frag, /<code>anchor_invalid<\/code>/);
    await stack.gateway.deps.incidents.settled();
    const open = (await stack.gateway.deps.incidents.list({ limit: 10, status: 'open' })).items;
    const incident = open.find((i) => i.kind === 'anchor_mismatch' && i.found === 'anchor_invalid');
    assert.ok(incident, 'the failed run opened an incident');
    const after = (await req('GET', '/console/integrity/verify/status', { cookie: auditor.cookie })).text;
    assert.match(after, new RegExp(`<a href="/console/incidents#incident-${incident.id}"><code>${incident.id}</code></a>`));
    const page = await req('GET', '/console/integrity', { cookie: auditor.cookie });
    assert.match(text(page.text), /Anchors file \(sink\) mismatch ?: anchors file line \d+ is not an anchor line/);
  } finally {
    writeFileSync(file, original);
  }
});

test('a receipt whose entry was rewritten in Redis shows "Tampering" with the chain and seq it names', async () => {
  const tlog = stack.gateway.deps.transferLog;
  const { redis } = stack.gateway.deps;
  const requestId = JSON.parse(Buffer.from(receipt.split('.')[1]!, 'base64url').toString()).requestId as string;
  const rows = ((await redis.xRange(tlog.keys.chain(tlog.writer.chain).entries, '-', '+')) ?? []);
  const target = rows.find((m) => JSON.parse(m.message.e!).requestId === requestId)!;
  assert.ok(target, 'the pull\'s entry');
  await redis.del(tlog.keys.chain(tlog.writer.chain).entries); // rewritten as someone with write access to Redis could
  for (const m of rows) await redis.xAdd(tlog.keys.chain(tlog.writer.chain).entries, m.id, m.id === target.id ? { e: JSON.stringify({ ...JSON.parse(m.message.e!), purpose: 'marketing_research' }) } : m.message);
  const r = await req('POST', '/console/integrity/receipt', { cookie: auditor.cookie, form: { _csrf: auditor.csrf, receipt } });
  assert.equal(r.status, 200, r.text);
  const entry = JSON.parse(target.message.e!);
  assert.match(text(r.text), new RegExp(`Tampering\\. .* Chain ${entry.chain} Seq ${entry.seq}`));
});

test('the status fragment: while a run goes on it polls every second and shows chains done of total; once ended it stops polling', async () => {
  const { verifyStatus } = await import('../src/console/integrity-view.ts');
  const running = verifyStatus({ running: { startedAt: '2026-01-01T00:00:00.000Z', by: 'Ana', progress: { phase: 'entries', chainsDone: 1, chainsTotal: 3, entries: 2000 } }, last: null }, null).text;
  assert.match(running, /hx-get="\/console\/integrity\/verify\/status" hx-trigger="every 1s"/);
  assert.match(text(running), /walking the entries of every chain: 1 of 3 chains done, 2000 entries checked/);
  assert.match(running, /<progress value="1" max="3"/);
  const done = verifyStatus({ running: null, last: { startedAt: 'a', finishedAt: 'b', by: 'Ana', result: null } }, null).text;
  assert.doesNotMatch(done, /hx-trigger/);
  assert.match(text(done), /The run could not complete/);
});

test('a second press while verify runs joins the run (one scan); the run is named for who started it', async () => {
  const { ConsoleVerifyRuns } = await import('../src/console/integrity-verify.ts');
  const tlog = stack.gateway.deps.transferLog;
  let calls = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  const runs = new ConsoleVerifyRuns(async (o) => {
    calls++;
    await gate; // holds the real verify until both presses are in
    return tlog.verify(o);
  });
  const results: unknown[] = [];
  assert.equal(runs.start('Ana', (r) => results.push(r)), true);
  assert.equal(runs.start('Bo', (r) => results.push(r)), false, 'joined');
  assert.equal(runs.state().running?.by, 'Ana');
  release();
  await waitFor(() => results.length === 1, 20_000);
  assert.equal(calls, 1);
  const last = runs.state().last!;
  assert.equal(runs.state().running, null);
  assert.equal(last.by, 'Ana');
  assert.ok(last.result && last.result.entries > 0);
});
