// The gateway as production runs it (issue 17 items 1, 5): `partner-gateway serve --workers N` from
// the compiled dist/ (bin/partner-gateway.js), configured by a GATEWAY_CONFIG file, so the bench and
// its profile measure what ships. `runtime: 'tsx'` runs the same CLI from src/ through tsx: the
// "before item 1" comparison for start-up time and idle memory.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { certPaths } from '../src/tls/dev-certs.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface GatewayProc {
  port: number;
  adminPort: number;
  /** The serve process (the node:cluster primary with workers > 1). */
  pid: number;
  /** Process start to the first 200 from /readyz (every worker ready), in ms. */
  startupMs: number;
  child: ChildProcess;
  /** SIGTERM (drains, and writes a --cpu-prof profile); resolves once the process has exited. */
  stop(): Promise<void>;
}

export interface GatewayOptions {
  dir: string; upstream: string; redis: string; adminToken: string;
  workers: number; runtime: 'dist' | 'tsx'; console?: boolean; profile?: boolean;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function waitReady(url: string, ca: string, child: ChildProcess): Promise<void> {
  const agent = new Agent({ connect: { ca: readFileSync(ca) } });
  try {
    for (let i = 0; i < 3000; i++) {
      if (child.exitCode !== null) throw new Error(`gateway exited with ${child.exitCode}`);
      const ok = await request(`${url}/readyz`, { dispatcher: agent }).then(async (r) => { await r.body.dump(); return r.statusCode === 200; }, () => false);
      if (ok) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error('gateway not ready after 30 s');
  } finally {
    await agent.close();
  }
}

export async function startGatewayProc(o: GatewayOptions): Promise<GatewayProc> {
  if (o.runtime === 'dist' && !existsSync(join(ROOT, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  const c = certPaths(join(o.dir, 'certs'));
  const client = { ca: c.ca, cert: c.cert('gateway-client'), key: c.key('gateway-client') };
  const [port, adminPort] = [await freePort(), await freePort()];
  const config = {
    server: { port, host: '127.0.0.1', tls: { cert: c.cert('gateway'), key: c.key('gateway'), ca: c.ca } },
    admin: { port: adminPort, host: '127.0.0.1', tls: { cert: c.cert('gateway'), key: c.key('gateway'), ca: c.ca } },
    upstream: { url: o.upstream, tls: client },
    redis: { url: o.redis, tls: client },
    keys: { dir: join(o.dir, 'keys') },
    limits: { maxPageSize: 1000, defaultPageSize: 100, cursorTtlSeconds: 86400 },
    // As before: no log lines in the measured path (one per request at info).
    log: { level: 'silent' },
    // bench/console-pages.ts signs in to the console with the admin token.
    ...(o.console ? { console: { tokenLogin: true } } : {}),
  };
  const file = join(o.dir, `gateway-${o.runtime}-${o.workers}.json`);
  writeFileSync(file, JSON.stringify(config));
  const prof = o.profile ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROFILE_DIR ?? '/tmp'] : [];
  const entry = o.runtime === 'dist' ? [join(ROOT, 'bin/partner-gateway.js')] : ['--import', 'tsx', join(ROOT, 'bench/gateway-tsx.ts')];
  const t0 = performance.now();
  const child = spawn(process.execPath, [...prof, ...entry, 'serve', '--workers', String(o.workers)], {
    cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, GATEWAY_CONFIG: file, BOOTSTRAP_ADMIN_TOKEN: o.adminToken },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitReady(`https://localhost:${port}`, c.ca, child);
  const startupMs = performance.now() - t0;
  return { port, adminPort, pid: child.pid!, startupMs, child, stop: () => { child.kill('SIGTERM'); return exited; } };
}
