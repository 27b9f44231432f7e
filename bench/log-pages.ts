// What the durable log costs per record when a bulk pull appends a page of 1000 at a time, in CPU
// of Redis and of the writer's process, against the bulk target's budget: at 50,000 records/s two
// cores give 40 us per record for the store, the gateway, Redis and the client together.
// Rows: a bare XADD (no hash, no index); the writes issue 5 requires per released entry (entry,
// subject and partner indexes, recipients) sent as plain commands; the transfer log itself.
// Standalone: node --import tsx bench/log-pages.ts (starts its own TLS Redis, AOF fsync always).
import { mkdtempSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRedisClient } from '../src/deps.ts';
import { writeDevCerts } from '../src/tls/dev-certs.ts';
import { startLocalRedis } from '../src/dev/local-redis.ts';
import type { TlsFiles } from '../src/tls/options.ts';
import { benchEntry, benchTransferLog, entrySample } from './log-append.ts';
import { cpuMs } from './cpu.ts';

const PAGE = 1000; // the upstream page a bulk pull decides and logs at once (pull-bulk.ts)
const TARGET = 50_000;

export interface PageRow { name: string; perSecond: number; redisUs: number; writerUs: number }

/** Pages one after another (as one bulk pull) for `seconds`; CPU per entry of Redis and of us. */
async function pages(name: string, redisPid: number, seconds: number, page: (p: number) => Promise<unknown>): Promise<PageRow> {
  const r0 = cpuMs(redisPid);
  const w0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const end = Date.now() + seconds * 1000;
  let n = 0;
  for (let p = 0; Date.now() < end; p++, n += PAGE) await page(p);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const w = process.cpuUsage(w0);
  return { name, perSecond: n / s, redisUs: ((cpuMs(redisPid) - r0) * 1000) / n, writerUs: (w.user + w.system) / n };
}

export async function runLogPagesBench(o: { url: string; tls: TlsFiles; redisPid: number; seconds: number }): Promise<PageRow[]> {
  const redis = createRedisClient(o.url, o.tls, 10_000);
  await redis.connect();
  try {
    const log = benchTransferLog(redis, 'bench-pages', 10_000);
    const sample = entrySample();
    const at = new Date().toISOString();
    const multi = (p: number, add: (m: ReturnType<typeof redis.multi>, i: number) => void) => {
      const m = redis.multi();
      for (let i = p * PAGE; i < (p + 1) * PAGE; i++) add(m, i);
      return m.exec();
    };
    const rows = [
      await pages('bare XADD, one MULTI per page (no hash, no index)', o.redisPid, o.seconds, (p) =>
        multi(p, (m) => m.xAdd('{bench-pages}:raw', '*', { e: sample }))),
      // The same keys and values the log writes for a release, without its Lua, hashing or checks.
      await pages('the log\'s writes (entry, 2 indexes, recipients), MULTI', o.redisPid, o.seconds, (p) =>
        multi(p, (m, i) => {
          const r = `{bench-pages}:rcpt:${i}`;
          m.xAdd('{bench-pages}:entries', '*', { e: sample });
          m.xAdd(`{bench-pages}:subj:${i}`, '*', { c: 'chain' });
          m.xAdd('{bench-pages}:part:p_1', '*', { c: 'chain' });
          m.hIncrBy(r, 'p_1\x1fcount', 1);
          m.hSet(r, { 'p_1\x1ffirst': at, 'p_1\x1flast': at, 'p_1\x1fpurpose\x1fadvertising': '1', 'p_1\x1fcat\x1fgender': '1', 'p_1\x1fcat\x1femail': '1', 'p_1\x1fcat\x1fdate_of_birth': '1' });
        })),
      await pages('transfer log appendMany (hash chain, indexes, one Lua call)', o.redisPid, o.seconds, (p) =>
        log.appendMany(Array.from({ length: PAGE }, (_, i) => benchEntry(p * PAGE + i)))),
    ];
    await log.close();
    return rows;
  } finally {
    redis.destroy();
  }
}

export function printLogPages(rows: PageRow[]): void {
  const budget = (cpus().length * 1e6) / TARGET;
  console.log(`transfer log, pages of ${PAGE} one after another (as a bulk pull), Redis AOF appendfsync always; CPU per entry`);
  for (const r of rows) {
    console.log(`${r.name.padEnd(62)} ${r.perSecond.toFixed(0).padStart(7)} entries/s  redis ${r.redisUs.toFixed(1).padStart(5)} us + writer ${r.writerUs.toFixed(1).padStart(5)} us = ${(r.redisUs + r.writerUs).toFixed(1)} us`);
  }
  console.log(`bulk target ${TARGET} records/s on ${cpus().length} cores: ${budget.toFixed(0)} us of CPU per record for store, gateway, Redis and client together`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const dir = mkdtempSync(join(tmpdir(), 'pg-bench-pages-'));
  const c = await writeDevCerts(join(dir, 'certs'));
  const redis = await startLocalRedis({ ca: c.ca, cert: c.cert('redis'), key: c.key('redis'), dataDir: join(dir, 'redis') });
  try {
    const seconds = Number(process.env.BENCH_SECONDS ?? 5);
    const tls = { ca: c.ca, cert: c.cert('gateway-client'), key: c.key('gateway-client') };
    printLogPages(await runLogPagesBench({ url: redis.url, tls, redisPid: redis.process.pid!, seconds }));
  } finally {
    await redis.stop();
  }
}
