// Issue [6/6] Must show: transfer log append throughput and Redis CPU per entry on one Redis against
// a 3-primary Redis Cluster (one replica each), both TLS-only with AOF appendfsync always, as the
// gateway opens them (src/redis/open.ts) and with the replicas setting each mode has by default
// (0 on one Redis, WAIT for 1 replica on the cluster). Several writers (chains) append at once, as
// several gateway instances and workers do; each chain's keys sit under its own hash tag, so the
// cluster spreads chains over its primaries.
//
// On a 2-core machine the cluster's six redis-servers, the writers and the kernel share two cores,
// so the cluster's entries/s is not what it would do on its own hardware. What carries over is the
// Redis CPU per entry, read from every primary's INFO cpu: with one core per primary, the cluster
// carries about 1 s / (the busiest primary's CPU per entry it stores), summed over primaries.
// Standalone: node --import tsx bench/log-cluster.ts
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../src/config/load.ts';
import { createLogger } from '../src/log.ts';
import { newSigningJwk } from '../src/keys/files.ts';
import { openRedis } from '../src/redis/open.ts';
import { createRedisClient, type RedisClient } from '../src/redis/client.ts';
import { startLocalRedis } from '../src/dev/local-redis.ts';
import { createTransferLog } from '../src/transfer-log/index.ts';
import { startTestCluster } from '../test/harness/redis-cluster.ts';
import { testCerts } from '../test/harness/certs.ts';
import type { TlsFiles } from '../src/tls/options.ts';
import { benchEntry } from './log-append.ts';

export interface ClusterCostRow {
  name: string;
  primaries: number;
  entries: number;
  seconds: number;
  /** Redis CPU per entry, summed over every primary (µs). */
  cpuUs: number;
  /** Each primary's CPU per entry of the whole run (µs): the busiest bounds the deployment. */
  perPrimaryUs: number[];
  /** Chains whose keys each primary holds. */
  chainsPerPrimary: number[];
}

const cpuSeconds = async (c: RedisClient) => {
  const text = await c.info('cpu');
  const v = (k: string) => Number(new RegExp(`${k}:([0-9.]+)`).exec(text)?.[1] ?? NaN);
  return v('used_cpu_sys') + v('used_cpu_user');
};

async function run(name: string, mode: 'single' | 'cluster', url: string | null, nodes: string[], primaryUrls: string[], tls: TlsFiles, o: { writers: number; entries: number }): Promise<ClusterCostRow> {
  const anchors = join(mkdtempSync(join(tmpdir(), 'pg-bench-anchors-')), 'anchors.jsonl');
  const config = loadConfig({ requireFiles: [], overrides: {
    redis: { mode, url, cluster: { nodes }, tls: { ...tls }, commandTimeoutMs: 10_000 },
    transferLog: { anchors: { file: anchors } },
  } });
  const opened = openRedis(config.redis, undefined, { subscriber: false });
  // Every writer of this process listens on the one connection object (as workers never do).
  (opened.redis as unknown as { setMaxListeners(n: number): void }).setMaxListeners?.(0);
  await opened.connect();
  const probes = await Promise.all(primaryUrls.map(async (u) => { const c = createRedisClient(u, tls, 10_000); await c.connect(); return c; }));
  const keys = { transferLog: randomBytes(32), signingJwk: newSigningJwk() };
  const logs = Array.from({ length: o.writers }, () => createTransferLog(
    { redis: opened.redis, topology: opened.topology, keys, config, log: createLogger('silent') },
    { keyPrefix: `bench-${mode}`, scheduleRetention: false },
  ));
  try {
    await Promise.all(logs.map((l) => l.append(benchEntry(0)))); // scripts loaded, durability checked
    const before = await Promise.all(probes.map(cpuSeconds));
    const t0 = process.hrtime.bigint();
    let i = 0;
    // 32 appends in flight per writer: group commit forms batches as concurrent requests do.
    await Promise.all(logs.flatMap((l) => Array.from({ length: 32 }, async () => { while (i < o.entries) await l.append(benchEntry(i++)); })));
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const after = await Promise.all(probes.map(cpuSeconds));
    const perPrimaryUs = after.map((a, k) => ((a - before[k]!) * 1e6) / i);
    const owners = await Promise.all(logs.map(async (l) => {
      const head = l.keys.chain(l.writer.chain).head;
      // A primary that does not own the slot answers MOVED: not there.
      const found = await Promise.all(probes.map(async (p) => (await p.exists(head).catch(() => 0)) === 1));
      return found.indexOf(true);
    }));
    const chainsPerPrimary = probes.map((_, k) => owners.filter((x) => x === k).length);
    for (const l of logs) await l.close();
    return { name, primaries: probes.length, entries: i, seconds, cpuUs: perPrimaryUs.reduce((a, b) => a + b, 0), perPrimaryUs, chainsPerPrimary };
  } finally {
    for (const p of probes) p.destroy();
    await opened.close();
  }
}

export async function runLogClusterBench(o: { writers?: number; entries?: number } = {}): Promise<ClusterCostRow[]> {
  const writers = o.writers ?? 12;
  const entries = o.entries ?? 30_000;
  const c = await testCerts();
  const tls = { ca: c.ca, cert: c.cert('gateway-client'), key: c.key('gateway-client') };
  const rows: ClusterCostRow[] = [];
  const single = await startLocalRedis({ ca: c.ca, cert: c.cert('redis'), key: c.key('redis'), dataDir: mkdtempSync(join(tmpdir(), 'pg-bench-single-')) });
  try {
    rows.push(await run('one Redis (replicas 0)', 'single', single.url, [], [single.url], tls, { writers, entries }));
  } finally {
    await single.stop();
  }
  const cluster = await startTestCluster();
  try {
    const primaries = await cluster.primaries();
    const urls = primaries.map((port) => cluster.nodes.find((n) => n.port === port)!.url);
    rows.push(await run('3-primary cluster (WAIT 1 replica)', 'cluster', null, cluster.seeds, urls, tls, { writers, entries }));
  } finally {
    await cluster.stop();
  }
  return rows;
}

export function printLogClusterBench(rows: ClusterCostRow[]): void {
  console.log('transfer log appends, 12 chains with 32 appends in flight each, TLS, AOF appendfsync always; Redis CPU per entry from every primary\'s INFO cpu');
  for (const r of rows) {
    const busiest = Math.max(...r.perPrimaryUs);
    console.log(`${r.name.padEnd(36)} ${(r.entries / r.seconds).toFixed(0).padStart(6)} entries/s on this machine; Redis CPU ${r.cpuUs.toFixed(1)} us/entry over ${r.primaries} primar${r.primaries > 1 ? 'ies' : 'y'} (per primary ${r.perPrimaryUs.map((u) => u.toFixed(1)).join(' / ')}; chains per primary ${r.chainsPerPrimary.join(' / ')})`);
    console.log(`${''.padEnd(36)} => with one core per primary: about ${(1e6 / busiest).toFixed(0)} entries/s (1 s / the busiest primary's ${busiest.toFixed(1)} us per entry of the whole stream)`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  printLogClusterBench(await runLogClusterBench({ entries: Number(process.env.BENCH_ENTRIES ?? 30_000) }));
}
