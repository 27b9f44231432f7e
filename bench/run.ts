// npm run bench: figures as ratios against baselines measured in the same run (never in tests).
// Each server runs in its own process; this process only generates load.
import { mkdtempSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { writeDevCerts } from '../src/tls/dev-certs.ts';
import { initKeys, loadKeys } from '../src/keys/files.ts';
import { startLocalRedis } from '../src/dev/local-redis.ts';
import { createPseudonymizer } from '../src/pseudonym/subject.ts';
import { runHttpBench, type LoadResult } from './http-load.ts';
import { startProc } from './procs.ts';
import { BenchClient } from './client.ts';
import { printLogAppend, runLogAppendBench } from './log-append.ts';
import { printLogPages, runLogPagesBench } from './log-pages.ts';
import { withCpu, rssPeak, treeRssBytes } from './cpu.ts';
import { startGatewayProc, type GatewayProc } from './gateway-proc.ts';
import { storeBulk } from './store-bulk.ts';
import { bulkFloor, storePage } from './bulk-floor.ts';
import { redisStats, perRequest, type CommandStat } from './redis-stats.ts';
import { printConsolePages, runConsolePagesBench, runConsolePagesStandalone } from './console-pages.ts';

// `npm run bench -- console` (or BENCH_ONLY=console): the console pages alone, on servers of their own.
if (process.argv[2] === 'console' || process.env.BENCH_ONLY === 'console') {
  await runConsolePagesStandalone();
  process.exit(0);
}

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const USERS = Number(process.env.BENCH_USERS ?? 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const dir = mkdtempSync(join(tmpdir(), 'pg-bench-'));
const c = await writeDevCerts(join(dir, 'certs'));
initKeys(join(dir, 'keys'));
const redis = await startLocalRedis({ ca: c.ca, cert: c.cert('redis'), key: c.key('redis'), dataDir: join(dir, 'redis') });
const adminToken = `pga_${randomBytes(32).toString('base64url')}`;
const store = await startProc('store', dir, { users: USERS });
const storeUrl = `https://localhost:${store.port}`;
const pass = await startProc('passthrough', dir, { upstream: storeUrl });
const durable = await startProc('durable', dir, { upstream: storeUrl, redis: redis.url });
const gwOpts = { dir, upstream: storeUrl, redis: redis.url, adminToken, console: true };
const only = process.env.BENCH_ONLY;
const mb = (b: number) => (b / 2 ** 20).toFixed(0);

// Issue 17 items 1, 5: start-up (process start to /readyz 200) and RSS at idle, the TypeScript
// run through tsx (as before item 1) against the compiled dist/ (as shipped), alternating.
const starts: Record<'tsx' | 'dist', { ms: number; rss: number }[]> = { tsx: [], dist: [] };
if (!only || only === 'startup') {
  for (const runtime of ['tsx', 'dist', 'tsx', 'dist'] as const) {
    const g = await startGatewayProc({ ...gwOpts, workers: 1, runtime });
    await new Promise((r) => setTimeout(r, 1000)); // idle: start-up's garbage settles
    starts[runtime].push({ ms: g.startupMs, rss: treeRssBytes(g.pid) });
    await g.stop();
  }
}

// The measured gateway: dist/, one worker (BENCH_PROFILE=gateway: --cpu-prof, written when it stops).
let gw: GatewayProc = await startGatewayProc({ ...gwOpts, workers: 1, runtime: 'dist', profile: process.env.BENCH_PROFILE === 'gateway' });
let gwUrl = `https://localhost:${gw.port}`;
let api = new BenchClient(gwUrl, c.ca, `https://localhost:${gw.adminPort}`);
try {
  const token = await api.setupPartner(adminToken);
  const stats = await redisStats(redis.url, { ca: c.ca, cert: c.cert('gateway-client'), key: c.key('gateway-client') });
  // Redis commandstats of the last full-path phase (reset before it, read after it).
  let fullStats: Record<string, CommandStat> = {};
  // The subjects the full path pulls: 1,000 released ones, and the same users' ids for the baselines.
  const page = await api.json(`/v1/subjects?purpose=service_delivery&limit=1000`, token);
  const p = createPseudonymizer(loadKeys(join(dir, 'keys')).pseudonymMaster);
  const subjects: string[] = page.items.map((i: { subject: string }) => i.subject);
  const ids = subjects.map((s) => p.decode(s, 'bench', [1])!.userId);
  const load = (url: string, paths: string[], headers?: Record<string, string>) => runHttpBench({ url, ca: c.ca, connections: 50, seconds, paths, ...(headers ? { headers } : {}) });

  // BENCH_ONLY=full|bulk runs one phase (for profiling the gateway with BENCH_PROFILE=gateway);
  // BENCH_ONLY=single runs the single-subject rounds with their baselines and stops before bulk;
  // BENCH_ONLY=workers one full-path run with 1 worker, then with 2; BENCH_ONLY=startup the start-up
  // and idle RSS comparison (tsx vs dist/) and one full-path run.
  const baselines = !only || only === 'single';
  const skip = { rps: NaN, p50: NaN, p99: NaN, errors: 0, count: 0 };
  // CPU per request of each server process (from /proc), steadier than req/s on 2 shared cores.
  // The gateway counts with its workers (bench/cpu.ts withCpu's `trees`).
  const pids = { store: store.pid, relay: pass.pid, durable: durable.pid, gateway: gw.pid, redis: redis.process.pid!, load: process.pid };
  const measured = async (run: () => Promise<LoadResult>) => {
    const { result, cpu } = await withCpu(pids, run);
    return { ...result, cpu };
  };
  const phase = (on: boolean, run: () => Promise<LoadResult>) => (on ? measured(run) : Promise.resolve({ ...skip, cpu: {} as Record<string, number> }));
  const round = async () => {
    const direct = await phase(baselines, () => load(storeUrl, ids.map((id) => `/users/${id}`)));
    const bare = await phase(baselines, () => load(`https://localhost:${pass.port}`, ids.map((id) => `/users/${id}`)));
    const logged = await phase(baselines, () => load(`https://localhost:${durable.port}`, ids.map((id) => `/users/${id}`)));
    // The gateway's floor: /healthz goes through the same express, helmet, request-id and metrics
    // middleware and TLS listener, with no upstream call and no policy work.
    const floor = await phase(baselines, () => load(gwUrl, ['/healthz']));
    if (only !== 'bulk') await stats.reset();
    const full = await phase(only !== 'bulk', () => load(gwUrl, subjects.map((s) => `/v1/subjects/${s}?purpose=service_delivery`), { authorization: `Bearer ${token}` }));
    if (only !== 'bulk') fullStats = await stats.read();
    return { direct, bare, logged, floor, full };
  };
  // Warm-up requests are not counted in `count` but their CPU is: a small overestimate for all.
  const perReq = (r: { cpu: Record<string, number>; count: number }, who: string) => ((r.cpu[who] ?? NaN) * 1000 / r.count).toFixed(0);
  const cpuLine = (r: Awaited<ReturnType<typeof round>>) =>
    `relay ${perReq(r.bare, 'relay')}; relay + log ${perReq(r.logged, 'durable')} + its redis ${perReq(r.logged, 'redis')}; gateway /healthz ${perReq(r.floor, 'gateway')}; gateway full path ${perReq(r.full, 'gateway')} + its redis ${perReq(r.full, 'redis')}; store ${perReq(r.bare, 'store')} (relayed) ${perReq(r.full, 'store')} (gateway); load generator ${perReq(r.bare, 'load')}`;
  // Runs on two shared cores vary by ±20 %: the phases run in interleaved rounds, and the table
  // shows the round with the median full-path ratio.
  const rounds: Awaited<ReturnType<typeof round>>[] = [];
  if (!only || only === 'single' || only === 'full') {
    for (let i = 0; i < ROUNDS; i++) {
      const r = await round();
      rounds.push(r);
      console.log(`round ${i + 1}/${ROUNDS}: full path ${r.full.rps.toFixed(0)} req/s = ${(r.full.rps / r.bare.rps).toFixed(2)}x pass-through (floor ${(r.logged.rps / r.bare.rps).toFixed(2)}x); CPU per request (us): ${cpuLine(r)}`);
    }
  }
  const ratio = (r: (typeof rounds)[number]) => r.full.rps / r.bare.rps;
  const { direct, bare, logged, floor, full } = [...rounds].sort((x, y) => ratio(x) - ratio(y))[Math.floor(rounds.length / 2)] ?? await round();
  if (only !== 'bulk') {
    console.log(`single-subject pulls over ${subjects.length} users: keep-alive, 50 connections, ${seconds} s each, ${cpus().length} cores, every server in its own process; median of ${rounds.length} rounds`);
    const row = (name: string, r: LoadResult, base: LoadResult, baseName: string) =>
      console.log(`${name.padEnd(44)} ${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50.toFixed(1).padStart(5)} ms  p99 ${r.p99.toFixed(1).padStart(6)} ms  ${(r.rps / base.rps).toFixed(2)}x ${baseName}  errors ${r.errors}`);
    row('core store direct', direct, direct, 'direct');
    row('bare Node pass-through (undici pool)', bare, direct, 'direct');
    row('pass-through + one durable XADD (floor)', logged, direct, 'direct');
    row('gateway /healthz (its HTTP stack, no work)', floor, direct, 'direct');
    row('gateway full path (auth, decide, log, ...)', full, direct, 'direct');
  }
  const us = (r: { cpu: Record<string, number>; count: number }, who: string) => (r.cpu[who] ?? NaN) * 1000 / r.count;
  const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
  if (only !== 'bulk') {
    console.log(`gateway full path / bare pass-through: ${(full.rps / bare.rps).toFixed(2)}x (target >= 0.5: ${verdict(full.rps / bare.rps >= 0.5)}); pass-through + durable XADD / bare: ${(logged.rps / bare.rps).toFixed(2)}x`);
    console.log(`CPU per request (us): ${cpuLine({ direct, bare, logged, floor, full })}`);
    const gwUs = us(full, 'gateway');
    const redisUs = us(full, 'redis');
    console.log(`gateway CPU per full-path request ${gwUs.toFixed(0)} us (target <= 300: ${verdict(gwUs <= 300)}); Redis ${redisUs.toFixed(0)} us (target <= 40: ${verdict(redisUs <= 40)})`);
    // The targets were set on a machine where the relay cost 100 us a request; on a slower or busier
    // one every figure scales, so the same targets are also shown against the relay of this round.
    const relayUs = us(bare, 'relay');
    if (Number.isFinite(relayUs)) console.log(`against the relay of the same round (${relayUs.toFixed(0)} us): gateway ${(gwUs / relayUs).toFixed(2)}x the relay's CPU (target 300/100 = 3.0x: ${verdict(gwUs / relayUs <= 3)}), Redis ${(redisUs / relayUs).toFixed(2)}x (target 40/100 = 0.40x: ${verdict(redisUs / relayUs <= 0.4)})`);
    // Redis runs commands on one thread that every gateway instance and worker shares (issue 17 item 3).
    console.log(`Redis us per full-path request by command (INFO commandstats, last round; script rows include the commands they ran): ${perRequest(fullStats, full.count)}`);
    console.log(`Redis ceiling: one Redis primary carries at most ${(1e6 / redisUs).toFixed(0)} full-path requests/s (1 s / ${redisUs.toFixed(0)} us of Redis CPU per request), however many gateways run`);
  }
  const startLine = (rt: 'tsx' | 'dist') => starts[rt].map((x) => `${x.ms.toFixed(0)} ms, RSS ${mb(x.rss)} MB`).join('; ');
  if (starts.dist.length) console.log(`gateway start-up (process start to /readyz 200) and RSS at idle, one worker: tsx (before item 1) ${startLine('tsx')}; dist/ ${startLine('dist')}`);

  if (!only || only === 'bulk') {
    const { result: alone, cpu: aloneCpu } = await withCpu(pids, () => storeBulk(storeUrl, { ca: c.ca, cert: c.cert('gateway-client'), key: c.key('gateway-client') }));
    const aloneRate = alone.records / alone.seconds;
    console.log(`core store alone, pages of 1000 read directly: ${alone.records} records in ${alone.seconds.toFixed(1)} s = ${aloneRate.toFixed(0)} records/s (the ceiling for bulk through any gateway); store CPU per record ${((aloneCpu.store ?? NaN) * 1000 / alone.records).toFixed(1)} us`);
    // The floor under any contract-keeping gateway's CPU per record (bulk-floor.ts), and what reading
    // the pages cost this process in the store-alone phase (TLS in, JSON.parse: a gateway does it too).
    const floor = bulkFloor(await storePage(storeUrl, { ca: c.ca, cert: c.cert('gateway-client'), key: c.key('gateway-client') }));
    const storeUs = (aloneCpu.store ?? NaN) * 1000 / alone.records;
    console.log(`bulk floor per record, in-process, before any policy check, TLS or socket work (bench/bulk-floor.ts, the gateway's own code on a real page): ${floor.parts.map(([n, us]) => `${n} ${us.toFixed(1)}`).join(' + ')} = ${floor.totalUs.toFixed(1)} us = ${(floor.totalUs / storeUs).toFixed(2)}x the store's CPU per record; reading the pages in the store-alone phase (TLS in, JSON.parse) cost the reader ${((aloneCpu.load ?? NaN) * 1000 / alone.records).toFixed(1)} us a record`);
    const rssBefore = treeRssBytes(gw.pid);
    // The issue measures before and after; the peak while the stream runs is shown too, since a
    // collection just before the end would otherwise hide what the pull held.
    const peak = rssPeak(gw.pid);
    await stats.reset();
    const memBefore = await stats.memory();
    const { result: bulk, cpu: bulkCpu } = await withCpu(pids, () => api.bulk(token));
    const bulkStats = await stats.read();
    const memGrowth = (await stats.memory()) - memBefore;
    const rssMax = peak.stop();
    const rssAfter = treeRssBytes(gw.pid);
    const rate = bulk.records / bulk.seconds;
    console.log(`bulk NDJSON over ${USERS} users: ${bulk.records} records (${bulk.released} released, ${bulk.omitted} omitted) in ${bulk.seconds.toFixed(1)} s = ${rate.toFixed(0)} records/s = ${(rate / aloneRate).toFixed(2)}x the store alone (target >= 0.6: ${verdict(rate / aloneRate >= 0.6)})`);
    const perRec = (who: string) => (bulkCpu[who] ?? NaN) * 1000 / bulk.records;
    console.log(`bulk CPU per record (us): gateway ${perRec('gateway').toFixed(1)} (target <= 55: ${verdict(perRec('gateway') <= 55)}), redis ${perRec('redis').toFixed(1)} (target <= 25: ${verdict(perRec('redis') <= 25)}), store ${perRec('store').toFixed(1)}, load generator ${perRec('load').toFixed(1)}`);
    // As for single pulls: the 55 us target was set where the store alone cost about 55 us a record.
    const storeAloneUs = (aloneCpu.store ?? NaN) * 1000 / alone.records;
    console.log(`against the store alone (${storeAloneUs.toFixed(1)} us a record): gateway ${(perRec('gateway') / storeAloneUs).toFixed(2)}x (target 55/55 = 1.0x: ${verdict(perRec('gateway') <= storeAloneUs)}), Redis ${(perRec('redis') / storeAloneUs).toFixed(2)}x (target 25/55 = 0.45x: ${verdict(perRec('redis') / storeAloneUs <= 25 / 55)})`);
    console.log(`bulk Redis us per record by command: ${perRequest(bulkStats, bulk.records)}`);
    // What the pull leaves in Redis: entries, each subject's index and recipients record, deletion schedule.
    console.log(`Redis memory after the pull: +${mb(memGrowth)} MB = ${(memGrowth / bulk.records).toFixed(0)} bytes a record (used_memory)`);
    console.log(`gateway RSS before ${mb(rssBefore)} MB, after ${mb(rssAfter)} MB, growth ${mb(rssAfter - rssBefore)} MB (target < 100); peak during the pull ${mb(rssMax)} MB (+${mb(rssMax - rssBefore)})`);
  }

  if (!only) {
    const redisTls = { ca: c.ca, cert: c.cert('gateway-client'), key: c.key('gateway-client') };
    printLogAppend(await runLogAppendBench({ url: redis.url, tls: redisTls, seconds }));
    printLogPages(await runLogPagesBench({ url: redis.url, tls: redisTls, redisPid: redis.process.pid!, seconds }));
    printConsolePages(await runConsolePagesBench({ redisUrl: redis.url, redisTls, keysDir: join(dir, 'keys'), gatewayUrl: gwUrl, adminUrl: `https://localhost:${gw.adminPort}`, ca: c.ca, adminToken }));
  }

  // Issue 17 items 2, 5: the full path through `serve --workers 2`. On 2 cores the second worker
  // competes with the store, Redis and this load generator, so the figure is CPU per request.
  if (!only || only === 'workers') {
    const one = full;
    await api.close();
    await gw.stop();
    gw = await startGatewayProc({ ...gwOpts, workers: 2, runtime: 'dist' });
    pids.gateway = gw.pid;
    gwUrl = `https://localhost:${gw.port}`;
    api = new BenchClient(gwUrl, c.ca, `https://localhost:${gw.adminPort}`);
    const two = await measured(() => load(gwUrl, subjects.map((s) => `/v1/subjects/${s}?purpose=service_delivery`), { authorization: `Bearer ${token}` }));
    const line = (n: number, r: typeof full) => `${n} worker${n > 1 ? 's' : ''} ${r.rps.toFixed(0)} req/s, gateway ${us(r, 'gateway').toFixed(0)} us + Redis ${us(r, 'redis').toFixed(0)} us + store ${us(r, 'store').toFixed(0)} us + load generator ${us(r, 'load').toFixed(0)} us per request`;
    console.log(`full path, serve --workers N (dist/; CPU per request, the gateway's summed over its processes): ${line(1, one)}; ${line(2, two)}`);
    console.log(`gateway start-up with 2 workers: ${gw.startupMs.toFixed(0)} ms; RSS at the end ${mb(treeRssBytes(gw.pid))} MB (primary + 2 workers)`);
  }
  await stats.close();
} finally {
  await api.close();
  await gw.stop();
  for (const proc of [durable, pass, store]) proc.stop();
  await redis.stop();
}
