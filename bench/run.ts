// npm run bench: figures as ratios against a baseline measured in the same run (never in tests).
import { runHttpBench } from './http-load.ts';
import { startBenchStack } from './stack.ts';
import { printLogAppend, runLogAppendBench } from './log-append.ts';

const stack = await startBenchStack();
try {
  const seconds = Number(process.env.BENCH_SECONDS ?? 5);
  const direct = await runHttpBench({ url: `${stack.storeUrl}/users/u_000042`, ca: stack.ca, connections: 50, seconds });
  const gwHealth = await runHttpBench({ url: `${stack.gatewayUrl}/healthz`, ca: stack.ca, connections: 50, seconds });
  const rows = [
    ['core store direct (GET /users/:id)', direct],
    ['gateway GET /healthz (TLS + middleware)', gwHealth],
  ] as const;
  console.log(`keep-alive, 50 connections, ${seconds} s each, on ${stack.cores} cores`);
  for (const [name, r] of rows) {
    console.log(`${name.padEnd(45)} ${r.rps.toFixed(0).padStart(8)} req/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  ratio ${(r.rps / direct.rps).toFixed(2)}x  errors ${r.errors}`);
  }
  printLogAppend(await runLogAppendBench({ url: stack.redis.url, tls: stack.config.redis.tls, seconds }));
} finally {
  await stack.close();
}
