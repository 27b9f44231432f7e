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
import { withCpu, rssPeak, rssBytes } from './cpu.ts';
import { storeBulk } from './store-bulk.ts';
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
const gw = await startProc('gateway', dir, { upstream: storeUrl, redis: redis.url, adminToken, console: true });
const gwUrl = `https://localhost:${gw.port}`;
const api = new BenchClient(gwUrl, c.ca, `https://localhost:${gw.adminPort}`);
try {
  const token = await api.setupPartner(adminToken);
  // The subjects the full path pulls: 1,000 released ones, and the same users' ids for the baselines.
  const page = await api.json(`/v1/subjects?purpose=service_delivery&limit=1000`, token);
  const p = createPseudonymizer(loadKeys(join(dir, 'keys')).pseudonymMaster);
  const subjects: string[] = page.items.map((i: { subject: string }) => i.subject);
  const ids = subjects.map((s) => p.decode(s, 'bench', [1])!.userId);
  const load = (url: string, paths: string[], headers?: Record<string, string>) => runHttpBench({ url, ca: c.ca, connections: 50, seconds, paths, ...(headers ? { headers } : {}) });

  // BENCH_ONLY=full|bulk runs one phase (for profiling the gateway with BENCH_PROFILE=gateway);
  // BENCH_ONLY=single runs the single-subject rounds with their baselines and stops before bulk.
  const only = process.env.BENCH_ONLY;
  const baselines = !only || only === 'single';
  const skip = { rps: NaN, p50: NaN, p99: NaN, errors: 0, count: 0 };
  // CPU per request of each server process (from /proc), steadier than req/s on 2 shared cores.
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
    const full = await phase(only !== 'bulk', () => load(gwUrl, subjects.map((s) => `/v1/subjects/${s}?purpose=service_delivery`), { authorization: `Bearer ${token}` }));
    return { direct, bare, logged, floor, full };
  };
  // Warm-up requests are not counted in `count` but their CPU is: a small overestimate for all.
  const perReq = (r: { cpu: Record<string, number>; count: number }, who: string) => ((r.cpu[who] ?? NaN) * 1000 / r.count).toFixed(0);
  const cpuLine = (r: Awaited<ReturnType<typeof round>>) =>
    `relay ${perReq(r.bare, 'relay')}; relay + log ${perReq(r.logged, 'durable')} + its redis ${perReq(r.logged, 'redis')}; gateway /healthz ${perReq(r.floor, 'gateway')}; gateway full path ${perReq(r.full, 'gateway')} + its redis ${perReq(r.full, 'redis')}; store ${perReq(r.bare, 'store')} (relayed) ${perReq(r.full, 'store')} (gateway); load generator ${perReq(r.bare, 'load')}`;
  // Runs on two shared cores vary by ±20 %: the phases run in interleaved rounds, and the table
  // shows the round with the median full-path ratio.
  const rounds: Awaited<ReturnType<typeof round>>[] = [];
  if (only !== 'bulk') {
    for (let i = 0; i < ROUNDS; i++) {
      const r = await round();
      rounds.push(r);
      console.log(`round ${i + 1}/${ROUNDS}: full path ${r.full.rps.toFixed(0)} req/s = ${(r.full.rps / r.bare.rps).toFixed(2)}x pass-through (floor ${(r.logged.rps / r.bare.rps).toFixed(2)}x); CPU per request (us): ${cpuLine(r)}`);
    }
  }
  const ratio = (r: (typeof rounds)[number]) => r.full.rps / r.bare.rps;
  const { direct, bare, logged, floor, full } = [...rounds].sort((x, y) => ratio(x) - ratio(y))[Math.floor(rounds.length / 2)] ?? await round();
  console.log(`single-subject pulls over ${subjects.length} users: keep-alive, 50 connections, ${seconds} s each, ${cpus().length} cores, every server in its own process; median of ${rounds.length} rounds`);
  const row = (name: string, r: LoadResult, base: LoadResult, baseName: string) =>
    console.log(`${name.padEnd(44)} ${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50.toFixed(1).padStart(5)} ms  p99 ${r.p99.toFixed(1).padStart(6)} ms  ${(r.rps / base.rps).toFixed(2)}x ${baseName}  errors ${r.errors}`);
  row('core store direct', direct, direct, 'direct');
  row('bare Node pass-through (undici pool)', bare, direct, 'direct');
  row('pass-through + one durable XADD (floor)', logged, direct, 'direct');
  row('gateway /healthz (its HTTP stack, no work)', floor, direct, 'direct');
  row('gateway full path (auth, decide, log, ...)', full, direct, 'direct');
  console.log(`gateway full path / bare pass-through: ${(full.rps / bare.rps).toFixed(2)}x (target >= 0.8); pass-through + durable XADD / bare: ${(logged.rps / bare.rps).toFixed(2)}x`);
  console.log(`CPU per request (us): ${cpuLine({ direct, bare, logged, floor, full })}`);

  if (only === 'full' || only === 'single') throw new Error(`BENCH_ONLY=${only}: stopping before bulk`);
  const { result: alone, cpu: aloneCpu } = await withCpu(pids, () => storeBulk(storeUrl, { ca: c.ca, cert: c.cert('gateway-client'), key: c.key('gateway-client') }));
  console.log(`core store alone, pages of 1000 read directly: ${alone.records} records in ${alone.seconds.toFixed(1)} s = ${(alone.records / alone.seconds).toFixed(0)} records/s (the ceiling for bulk through any gateway); store CPU per record ${((aloneCpu.store ?? NaN) * 1000 / alone.records).toFixed(1)} us`);
  const rssBefore = rssBytes(gw.pid);
  // The issue measures before and after; the peak while the stream runs is shown too, since a
  // collection just before the end would otherwise hide what the pull held.
  const peak = rssPeak(gw.pid);
  const { result: bulk, cpu: bulkCpu } = await withCpu(pids, () => api.bulk(token));
  const rssMax = peak.stop();
  const rssAfter = rssBytes(gw.pid);
  console.log(`bulk NDJSON over ${USERS} users: ${bulk.records} records (${bulk.released} released, ${bulk.omitted} omitted) in ${bulk.seconds.toFixed(1)} s = ${(bulk.records / bulk.seconds).toFixed(0)} records/s (target >= 50000)`);
  const perRec = (who: string) => ((bulkCpu[who] ?? NaN) * 1000 / bulk.records).toFixed(1);
  console.log(`bulk CPU per record (us): gateway ${perRec('gateway')}, redis ${perRec('redis')}, store ${perRec('store')}`);
  const mb = (b: number) => (b / 2 ** 20).toFixed(0);
  console.log(`gateway RSS before ${mb(rssBefore)} MB, after ${mb(rssAfter)} MB, growth ${mb(rssAfter - rssBefore)} MB (target < 100); peak during the pull ${mb(rssMax)} MB (+${mb(rssMax - rssBefore)})`);

  const redisTls = { ca: c.ca, cert: c.cert('gateway-client'), key: c.key('gateway-client') };
  printLogAppend(await runLogAppendBench({ url: redis.url, tls: redisTls, seconds }));
  printLogPages(await runLogPagesBench({ url: redis.url, tls: redisTls, redisPid: redis.process.pid!, seconds }));
  printConsolePages(await runConsolePagesBench({ redisUrl: redis.url, redisTls, keysDir: join(dir, 'keys'), gatewayUrl: gwUrl, adminUrl: `https://localhost:${gw.adminPort}`, ca: c.ca, adminToken }));
} finally {
  await api.close();
  for (const proc of [gw, durable, pass, store]) proc.stop();
  await redis.stop();
}
