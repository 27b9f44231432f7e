// Issue 16: each console page loads in under 1 s with 100,000 transfer-log entries present.
// Seeds 100,000 entries with the log's own writer (appendMany, pages of 1000: several partners,
// released and denied, some cross-border), signs in to the console with the admin token and times
// GETs of each page against the baseline `/healthz` of the same control-plane listener over the
// same TLS client (keep-alive, one request at a time). The Overview is timed cold (the first view
// after sign-in, no snapshot in Redis) and warm (once the week has been read).
// `npm run bench -- console` runs it alone (its own Redis, store and gateway); the full
// `npm run bench` runs it last against the gateway it started.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'undici';
import { createRedisClient } from '../src/deps.ts';
import { loadConfig } from '../src/config/load.ts';
import { createLogger } from '../src/log.ts';
import { initKeys, loadKeys } from '../src/keys/files.ts';
import { writeDevCerts } from '../src/tls/dev-certs.ts';
import { startLocalRedis } from '../src/dev/local-redis.ts';
import type { TlsFiles } from '../src/tls/options.ts';
import { createTransferLog, type AppendInput } from '../src/transfer-log/index.ts';
import { benchEntry } from './log-append.ts';
import { SNAPSHOT_KEY } from '../src/console/overview-snapshot.ts';
import { BenchClient } from './client.ts';
import { startProc } from './procs.ts';

const ENTRIES = Number(process.env.BENCH_CONSOLE_ENTRIES ?? 100_000);
const SAMPLES = Number(process.env.BENCH_CONSOLE_SAMPLES ?? 20);
const PAGE = 1000;
const REASONS = ['consent_required', 'purpose_not_allowed', 'country_blocked', 'rate_limited', 'egress_guard'];

/** Entry i: 8 partners; every 5th denied (5 reasons); every 4th release to DE on adequacy. */
export function consoleEntry(i: number): AppendInput {
  const e = { ...benchEntry(i), partnerId: `p_${i % 8}`, agreementId: `agr_${i % 8}` };
  if (i % 5 === 0) return { ...e, decision: 'denied', reason: REASONS[(i / 5) % REASONS.length]! } as AppendInput;
  if (i % 4 === 1) return { ...e, destinationCountries: ['DE'], crossBorderBasis: 'adequacy', adequacyListVersion: 1 } as AppendInput;
  return e;
}

export interface PageTiming { name: string; path: string; samples: number; p50: number; p95: number; max: number; status: number }

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

export async function runConsolePagesBench(o: { redisUrl: string; redisTls: TlsFiles; keysDir: string; gatewayUrl: string; adminUrl: string; ca: string; adminToken: string }): Promise<{ seeded: number; seedSeconds: number; rows: PageTiming[]; baseline: PageTiming; weekReadSeconds: number; snapshotBytes: number }> {
  // Seed through the gateway's own log (its keys, default key prefix), as the partner path writes it.
  const redis = createRedisClient(o.redisUrl, o.redisTls, 10_000);
  await redis.connect();
  const anchors = join(mkdtempSync(join(tmpdir(), 'pg-bench-console-')), 'anchors.jsonl');
  const config = loadConfig({ requireFiles: [], overrides: { redis: { commandTimeoutMs: 10_000 }, transferLog: { anchors: { file: anchors } } as never } });
  const log = createTransferLog({ redis, keys: loadKeys(o.keysDir), config, log: createLogger('silent') }, { scheduleRetention: false });
  const t0 = process.hrtime.bigint();
  for (let p = 0; p * PAGE < ENTRIES; p++) await log.appendMany(Array.from({ length: Math.min(PAGE, ENTRIES - p * PAGE) }, (_, i) => consoleEntry(p * PAGE + i)));
  const seedSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  await log.close();

  // A registered partner with an agreement and a credential, for the partner and agreement pages.
  const api = new BenchClient(o.gatewayUrl, o.ca, o.adminUrl);
  await api.setupPartner(o.adminToken).catch((err: Error) => { if (!/409/.test(err.message)) throw err; });
  await api.close();

  const agent = new Agent({ connect: { ca: readFileSync(o.ca) }, connections: 1 });
  try {
    const signIn = await request(`${o.adminUrl}/console/sign-in`, {
      method: 'POST', dispatcher: agent, body: new URLSearchParams({ token: o.adminToken }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: o.adminUrl },
    });
    await signIn.body.dump();
    const setCookie = String(signIn.headers['set-cookie'] ?? '');
    const cookie = /__Host-pg-console=[^;]+/.exec(setCookie)?.[0];
    if (signIn.statusCode !== 303 || !cookie) throw new Error(`console sign-in: ${signIn.statusCode}`);
    const get = async (path: string, headers: Record<string, string> = {}) => {
      const t = process.hrtime.bigint();
      const res = await request(`${o.adminUrl}${path}`, { dispatcher: agent, headers: { cookie, ...headers } });
      const text = await res.body.text();
      return { ms: Number(process.hrtime.bigint() - t) / 1e6, status: res.statusCode, text };
    };
    const time = async (name: string, path: string, n = SAMPLES, headers: Record<string, string> = {}): Promise<PageTiming> => {
      const ms: number[] = [];
      let status = 0;
      for (let i = 0; i < n; i++) {
        const r = await get(path, headers);
        if (r.status !== 200) throw new Error(`${name} ${path}: ${r.status}`);
        status = r.status;
        ms.push(r.ms);
      }
      return { name, path, samples: n, p50: pct(ms, 50), p95: pct(ms, 95), max: Math.max(...ms), status };
    };

    const rows: PageTiming[] = [];
    // Cold: the first view after sign-in, no snapshot; it answers within the read budget.
    const cold = await get('/console/overview');
    rows.push({ name: 'overview (cold: first view, week not read yet)', path: '/console/overview', samples: 1, p50: cold.ms, p95: cold.ms, max: cold.ms, status: cold.status });
    const coldNote = /still reading the log: (\d+) entries so far/.exec(cold.text)?.[1];
    const r0 = process.hrtime.bigint();
    for (let i = 0; i < 600; i++) {
      if (!/still reading the log/.test((await get('/console/overview')).text)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const weekReadSeconds = Number(process.hrtime.bigint() - r0) / 1e9;
    rows.push(await time('overview (warm, window=week)', '/console/overview?window=week'));
    rows.push(await time('live transfers (page)', '/console/live'));
    const search = await get('/console/transfers');
    rows.push(await time('transfer log search, first page', '/console/transfers'));
    rows.push(await time('transfer log search, partner + denied', '/console/transfers?partnerId=p_3&decision=denied'));
    rows.push(await time('transfer log search, country DE', '/console/transfers?country=DE'));
    const entry = /\/console\/transfers\/entry\?[^"]+/.exec(search.text)?.[0]?.replaceAll('&amp;', '&');
    if (!entry) throw new Error('no entry link on the search page');
    rows.push(await time('one entry (drawer fragment)', entry, SAMPLES, { 'hx-request': 'true' }));
    rows.push(await time('partners', '/console/partners'));
    rows.push(await time('partner details', '/console/partners/bench'));
    rows.push(await time('agreements', '/console/agreements'));
    rows.push(await time('jurisdiction', '/console/jurisdiction'));
    rows.push(await time('integrity (verify not run)', '/console/integrity'));
    rows.push(await time('audit', '/console/audit'));
    rows.push(await time('incidents', '/console/incidents'));
    const baseline = await time('baseline /healthz (control plane)', '/healthz', SAMPLES * 2);
    if (coldNote) rows[0]!.name += `; ${coldNote} read`;
    // The shared snapshot's size as stored (its bound is a week of minutes, whatever the log holds).
    const snapshotBytes = (await redis.hGet(SNAPSHOT_KEY, 'data'))?.length ?? 0;
    return { seeded: ENTRIES, seedSeconds, rows, baseline, weekReadSeconds, snapshotBytes };
  } finally {
    await agent.close();
    redis.destroy();
  }
}

export function printConsolePages(r: Awaited<ReturnType<typeof runConsolePagesBench>>): void {
  console.log(`console pages with ${r.seeded} transfer-log entries (seeded in ${r.seedSeconds.toFixed(1)} s with appendMany); ${SAMPLES} sequential GETs each over one keep-alive TLS connection; target < 1000 ms`);
  const row = (t: PageTiming) =>
    console.log(`${t.name.padEnd(58)} p50 ${t.p50.toFixed(1).padStart(7)} ms  p95 ${t.p95.toFixed(1).padStart(7)} ms  max ${t.max.toFixed(1).padStart(7)} ms  ${(t.p50 / r.baseline.p50).toFixed(1).padStart(6)}x /healthz${t.max >= 1000 ? '  OVER 1 s' : ''}`);
  row(r.baseline);
  for (const t of r.rows) row(t);
  console.log(`overview: the first read of the week went on in the background for ${r.weekReadSeconds.toFixed(1)} s after the cold view; shared snapshot (${SNAPSHOT_KEY}) ${r.snapshotBytes} bytes`);
}

/** `npm run bench -- console`: its own TLS Redis, core store and gateway, then the pages. */
export async function runConsolePagesStandalone(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'pg-bench-console-'));
  const c = await writeDevCerts(join(dir, 'certs'));
  initKeys(join(dir, 'keys'));
  const redis = await startLocalRedis({ ca: c.ca, cert: c.cert('redis'), key: c.key('redis'), dataDir: join(dir, 'redis') });
  const adminToken = `pga_${randomBytes(32).toString('base64url')}`;
  const store = await startProc('store', dir, { users: 1000 });
  const gw = await startProc('gateway', dir, { upstream: `https://localhost:${store.port}`, redis: redis.url, adminToken, console: true });
  try {
    printConsolePages(await runConsolePagesBench({
      redisUrl: redis.url, redisTls: { ca: c.ca, cert: c.cert('gateway-client'), key: c.key('gateway-client') }, keysDir: join(dir, 'keys'),
      gatewayUrl: `https://localhost:${gw.port}`, adminUrl: `https://localhost:${gw.adminPort}`, ca: c.ca, adminToken,
    }));
  } finally {
    gw.stop();
    store.stop();
    await redis.stop();
  }
}
