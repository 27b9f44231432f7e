// A small closed-loop HTTP load generator over verified TLS (undici pool, keep-alive).
import { Pool } from 'undici';
import { readFileSync } from 'node:fs';

export interface LoadResult { rps: number; p50: number; p99: number; errors: number; count: number }

export async function runHttpBench(opts: { url: string; ca: string; connections: number; seconds: number; headers?: Record<string, string>; paths?: string[] }): Promise<LoadResult> {
  const u = new URL(opts.url);
  const paths = opts.paths ?? [u.pathname + u.search];
  let next = 0;
  const pool = new Pool(u.origin, { connections: opts.connections, connect: { ca: readFileSync(opts.ca) } });
  const latencies: number[] = [];
  let errors = 0;
  const warmupEnd = Date.now() + 500;
  const end = warmupEnd + opts.seconds * 1000;
  const worker = async () => {
    while (Date.now() < end) {
      const t0 = performance.now();
      try {
        const res = await pool.request({ path: paths[next++ % paths.length]!, method: 'GET', headers: opts.headers });
        await res.body.dump();
        if (res.statusCode >= 400) errors++;
      } catch {
        errors++;
      }
      if (Date.now() > warmupEnd) latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: opts.connections }, worker));
  await pool.close();
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  return { rps: latencies.length / opts.seconds, p50: q(0.5), p99: q(0.99), errors, count: latencies.length };
}
