// Transfer log appends per second: one writer, many appends in flight (as concurrent requests
// make them), against a baseline measured in the same run on the same Redis: raw XADD of an
// entry-sized JSON, auto-pipelined, without hashing, indexes or recipients.
// Standalone: node --import tsx bench/log-append.ts (starts its own TLS Redis, AOF fsync always).
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRedisClient, type Redis } from '../src/deps.ts';
import { loadConfig } from '../src/config/load.ts';
import { createLogger } from '../src/log.ts';
import { newSigningJwk } from '../src/keys/files.ts';
import { writeDevCerts } from '../src/tls/dev-certs.ts';
import { startLocalRedis } from '../src/dev/local-redis.ts';
import type { TlsFiles } from '../src/tls/options.ts';
import { createTransferLog, type AppendInput } from '../src/transfer-log/index.ts';

/** A released entry of a typical size (also used by log-pages.ts). */
export const benchEntry = (i: number): AppendInput => ({
  requestId: `bench-${i}`, partnerId: `p_${i % 50}`, agreementId: `agr_${i % 50}`, agreementVersion: 3, purpose: 'advertising',
  userId: `u_${String(i % 100_000).padStart(6, '0')}`, decision: 'released', reason: null, categories: ['gender', 'email', 'date_of_birth'],
  destinationCountries: ['KZ'], legalBasis: 'consent', crossBorderBasis: 'domestic', policyVersion: '2024-03', keyVersion: 1,
  tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', clientCertThumbprint: null }, deleteBy: '2027-01-15T00:00:00.000Z',
  legalEntity: { name: `Partner ${i % 50} LLP`, country: 'KZ', registrationNumber: null }, consent: { purpose: 'advertising', grantedAt: '2026-01-10T00:00:00.000Z' },
});

/** What one stored entry looks like, for the raw XADD baselines: the same size, no hashing. */
export const entrySample = () =>
  JSON.stringify({ ...benchEntry(0), userId: undefined, subjectRef: 'x'.repeat(43), chain: 'x'.repeat(12), seq: 1, prevHash: '0'.repeat(64), hash: '0'.repeat(64), id: randomBytes(16).toString('hex'), at: new Date().toISOString() });

/** A transfer log of its own on `redis` (fresh keys, silent, no retention job), for the benches. */
export function benchTransferLog(redis: Redis, keyPrefix: string, timeoutMs: number) {
  // Anchored to a throwaway file (issue [3/6]: one fsynced line per batch is part of the cost).
  const anchors = join(mkdtempSync(join(tmpdir(), 'pg-bench-anchors-')), 'anchors.jsonl');
  const config = loadConfig({ requireFiles: [], overrides: { redis: { commandTimeoutMs: timeoutMs }, transferLog: { anchors: { file: anchors } } as never } });
  const keys = { transferLog: randomBytes(32), signingJwk: newSigningJwk() };
  return createTransferLog({ redis, keys, config, log: createLogger('silent') }, { keyPrefix, scheduleRetention: false });
}

/** `inFlight` closed-loop workers for `seconds`; returns operations per second. */
async function closedLoop(inFlight: number, seconds: number, op: (i: number) => Promise<unknown>): Promise<number> {
  const end = Date.now() + seconds * 1000;
  let n = 0;
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: inFlight }, async () => { while (Date.now() < end) await op(n++); }));
  return n / (Number(process.hrtime.bigint() - started) / 1e9);
}

export interface LogAppendFigures { baseline: number; pipelined: number; oneAtATime: number; inFlight: number }

export async function runLogAppendBench(o: { url: string; tls: TlsFiles; seconds: number; inFlight?: number }): Promise<LogAppendFigures> {
  const inFlight = o.inFlight ?? 256;
  const clients: Redis[] = [];
  const client = async () => { const c = createRedisClient(o.url, o.tls, 5000); await c.connect(); clients.push(c); return c; };
  try {
    const raw = await client();
    const sample = entrySample();
    const baseline = await closedLoop(inFlight, o.seconds, () => raw.xAdd('{bench}:raw', '*', { e: sample }));
    const log = benchTransferLog(await client(), 'bench-tlog', 5000);
    const pipelined = await closedLoop(inFlight, o.seconds, (i) => log.append(benchEntry(i)));
    const oneAtATime = await closedLoop(1, Math.min(o.seconds, 2), (i) => log.append(benchEntry(i)));
    await log.close();
    const v = await log.verify();
    if (!v.ok) throw new Error(`bench log does not verify: ${JSON.stringify(v.brokenAt)}`);
    return { baseline, pipelined, oneAtATime, inFlight };
  } finally {
    for (const c of clients) c.destroy();
  }
}

export function printLogAppend(f: LogAppendFigures): void {
  const row = (name: string, v: number) => console.log(`${name.padEnd(58)} ${v.toFixed(0).padStart(8)} appends/s  ratio ${(v / f.baseline).toFixed(2)}x`);
  console.log(`transfer log append, single writer, ${f.inFlight} in flight, Redis AOF appendfsync always`);
  row('baseline: raw XADD, auto-pipelined (no hash, no index)', f.baseline);
  row('transfer log append (hash chain, indexes, group commit)', f.pipelined);
  row('transfer log append, one at a time (latency bound)', f.oneAtATime);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const dir = mkdtempSync(join(tmpdir(), 'pg-bench-log-'));
  const c = await writeDevCerts(join(dir, 'certs'));
  const redis = await startLocalRedis({ ca: c.ca, cert: c.cert('redis'), key: c.key('redis'), dataDir: join(dir, 'redis') });
  try {
    const seconds = Number(process.env.BENCH_SECONDS ?? 5);
    printLogAppend(await runLogAppendBench({ url: redis.url, tls: { ca: c.ca, cert: c.cert('gateway-client'), key: c.key('gateway-client') }, seconds }));
  } finally {
    await redis.stop();
  }
}
