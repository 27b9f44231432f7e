// Where the transfer log's Redis time goes (issue [5/6] item 3, the log's share; issue [6/6]).
// Redis's own accounting, read before and after a run: INFO commandstats (usec per command, Lua's
// inner calls counted under their own names as well as inside EVALSHA) and INFO cpu (the whole
// process: command execution, TLS, the AOF fsync of every batch). Two shapes:
//   - full path: appends one entry at a time, `inFlight` concurrent callers (group commit forms
//     batches as concurrent requests do);
//   - bulk: pages of 1000 entries, one appendMany each (as a bulk pull logs a store page).
// The µs are per entry. Standalone: node --import tsx bench/log-redis-cost.ts
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRedisClient } from '../src/deps.ts';
import type { RedisClient as Redis } from '../src/redis/client.ts';
import { writeDevCerts } from '../src/tls/dev-certs.ts';
import { startLocalRedis } from '../src/dev/local-redis.ts';
import type { TlsFiles } from '../src/tls/options.ts';
import { benchEntry, benchTransferLog } from './log-append.ts';
import { APPEND_LUA, scriptArgs } from '../src/transfer-log/append-script.ts';
import { entryBody } from '../src/transfer-log/input.ts';
import { GENESIS, sealEntry, type TransferEntry } from '../src/transfer-log/entry.ts';
import { logKeys } from '../src/transfer-log/keys.ts';
import { subjectRefFn } from '../src/transfer-log/subject-ref.ts';
import { randomBytes } from 'node:crypto';

export interface CostRow { name: string; entries: number; cpuUs: number; /** of which kernel time: socket writes and the AOF fsync of every batch */ sysUs: number; commands: Record<string, number>; calls: Record<string, number> }

const info = async (redis: Redis, section: string) => {
  const text = await redis.info(section);
  const out: Record<string, string> = {};
  for (const line of text.split('\r\n')) { const i = line.indexOf(':'); if (i > 0) out[line.slice(0, i)] = line.slice(i + 1); }
  return out;
};

async function measure(redis: Redis, name: string, run: () => Promise<number>): Promise<CostRow> {
  await redis.configResetStat();
  const c0 = await info(redis, 'cpu');
  const entries = await run();
  const c1 = await info(redis, 'cpu');
  const stats = await info(redis, 'commandstats');
  const cpu = (c: Record<string, string>) => Number(c.used_cpu_sys) + Number(c.used_cpu_user);
  const commands: Record<string, number> = {};
  const calls: Record<string, number> = {};
  for (const [k, v] of Object.entries(stats)) {
    const m = /calls=(\d+),usec=(\d+)/.exec(v);
    if (!m || k === 'cmdstat_info' || k === 'cmdstat_config') continue;
    commands[k.replace('cmdstat_', '')] = Number(m[2]) / entries;
    calls[k.replace('cmdstat_', '')] = Number(m[1]) / entries;
  }
  return { name, entries, cpuUs: ((cpu(c1) - cpu(c0)) * 1e6) / entries, sysUs: ((Number(c1.used_cpu_sys) - Number(c0.used_cpu_sys)) * 1e6) / entries, commands, calls };
}

export async function runLogRedisCost(o: { url: string; tls: TlsFiles; entries?: number; inFlight?: number }): Promise<CostRow[]> {
  const n = o.entries ?? 20_000;
  const inFlight = o.inFlight ?? 32;
  const redis = createRedisClient(o.url, o.tls, 10_000);
  const writer = createRedisClient(o.url, o.tls, 10_000);
  await redis.connect();
  await writer.connect();
  try {
    const log = benchTransferLog(writer, 'bench-cost', 10_000);
    await log.append(benchEntry(0)); // the script loaded, the durability check done
    const full = await measure(redis, `full path: single appends, ${inFlight} in flight`, async () => {
      let i = 0;
      await Promise.all(Array.from({ length: inFlight }, async () => { while (i < n) await log.append(benchEntry(i++)); }));
      return i;
    });
    const bulk = await measure(redis, 'bulk: pages of 1000, one appendMany each', async () => {
      for (let p = 0; p < n / 1000; p++) await log.appendMany(Array.from({ length: 1000 }, (_, i) => benchEntry(p * 1000 + i)));
      return n;
    });
    await log.close();
    const v = await log.verify();
    if (!v.ok) throw new Error(`bench log does not verify: ${JSON.stringify(v.brokenAt)}`);
    return [full, bulk];
  } finally {
    redis.destroy();
    writer.destroy();
  }
}

// One part removed at a time (as bench/log-pages.ts does): the append script with a part cut out,
// run on pages of 1000 sealed entries, Redis CPU per entry. The difference to the whole script is
// what that part costs. The head check is cut from every variant (each page starts a fresh chain).
const VARIANTS: Array<[string, (lua: string) => string]> = [
  ['the append script, whole', (l) => l],
  ['  without the recipients records', (l) => l.replace(/if released == '1'[\s\S]*?\n  end\n/, '')],
  ['  recipients as one HSET (no HMGET)', (l) => l.replace(/local fl = redis.call\('HMGET'[^\n]*\n/, 'local fl = {}\n')],
  ['  without the subject index', (l) => l.replace(/if subject ~= '' then redis.call\('RPUSH', KEYS\[k\][^\n]*\n/, '')],
  ['  entries, head and checkpoint only', (l) => l.replace(/for i = 0, n - 1 do\n  local a = 4[\s\S]*?\nend\n/, '')],
];

export async function runLogPartsCost(o: { url: string; tls: TlsFiles; pages?: number }): Promise<Array<{ name: string; cpuUs: number }>> {
  const redis = createRedisClient(o.url, o.tls, 10_000);
  await redis.connect();
  const pages = o.pages ?? 10;
  const ref = subjectRefFn(randomBytes(32));
  const keys = logKeys('bench-parts');
  const now = new Date();
  try {
    const out: Array<{ name: string; cpuUs: number }> = [];
    for (const [name, cut] of VARIANTS) {
      const lua = cut(APPEND_LUA).replace(/if \(redis.call\('GET', KEYS\[2\]\)[\s\S]*?\nend\n/, '');
      const row = await measure(redis, name, async () => {
        for (let p = 0; p < pages; p++) {
          const chain = randomBytes(6).toString('base64url');
          let prev = GENESIS;
          const batch: TransferEntry[] = Array.from({ length: 1000 }, (_, i) => {
            const e = sealEntry(entryBody(benchEntry(p * 1000 + i), ref, now), chain, i + 1, prev);
            prev = e.hash;
            return e;
          });
          const { keys: k, args } = scriptArgs(keys.chain(chain), batch, 'x'.repeat(400));
          await redis.eval(lua, { keys: k, arguments: args });
        }
        return pages * 1000;
      });
      out.push({ name, cpuUs: row.cpuUs });
    }
    return out;
  } finally {
    redis.destroy();
  }
}

export function printLogRedisCost(rows: CostRow[]): void {
  console.log('transfer log, Redis CPU per entry (INFO cpu) and command time per entry (INFO commandstats), AOF appendfsync always');
  for (const r of rows) {
    const top = Object.entries(r.commands).sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v.toFixed(2)}us x${r.calls[k]!.toFixed(2)}`).join(', ');
    console.log(`${r.name.padEnd(48)} redis cpu ${r.cpuUs.toFixed(1).padStart(5)} us/entry (kernel ${r.sysUs.toFixed(1)}); commands: ${top}`);
    console.log(`${''.padEnd(48)} => ceiling ${(1e6 / r.cpuUs).toFixed(0)} entries/s on one Redis core`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const dir = mkdtempSync(join(tmpdir(), 'pg-bench-cost-'));
  const c = await writeDevCerts(join(dir, 'certs'));
  const redis = await startLocalRedis({ ca: c.ca, cert: c.cert('redis'), key: c.key('redis'), dataDir: join(dir, 'redis') });
  try {
    const tls = { ca: c.ca, cert: c.cert('gateway-client'), key: c.key('gateway-client') };
    printLogRedisCost(await runLogRedisCost({ url: redis.url, tls, entries: Number(process.env.BENCH_ENTRIES ?? 20_000) }));
    console.log('one part removed (bulk pages of 1000, raw script, Redis CPU per entry):');
    for (const r of await runLogPartsCost({ url: redis.url, tls })) console.log(`${r.name.padEnd(48)} ${r.cpuUs.toFixed(1).padStart(5)} us/entry`);
  } finally {
    await redis.stop();
  }
}
