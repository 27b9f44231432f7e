// A local TLS-only redis-server for the demo and the tests: no plain port (`--port 0`), client
// certificates required, AOF with fsync on every write so appends are durable before they return.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdirSync } from 'node:fs';
import { TLS12_SUITES, TLS13_SUITES } from '../tls/options.ts';

export interface LocalRedisOptions {
  ca: string;
  cert: string;
  key: string;
  dataDir: string;
  port?: number;
  /** More redis-server arguments, after ours (tests: e.g. `--rename-command CONFIG ""` as managed services do). */
  extraArgs?: readonly string[];
}

export interface LocalRedis {
  url: string;
  port: number;
  process: ChildProcess;
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>;
  /** Clean shutdown. */
  stop(): Promise<void>;
  /** Start again on the same port and data dir (after kill or stop). */
  restart(): Promise<void>;
}

export function redisServerAvailable(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function launch(opts: LocalRedisOptions, port: number): Promise<ChildProcess> {
  const args = [
    '--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1',
    '--tls-cert-file', opts.cert, '--tls-key-file', opts.key, '--tls-ca-cert-file', opts.ca,
    '--tls-auth-clients', 'yes', '--tls-protocols', 'TLSv1.2 TLSv1.3',
    '--tls-ciphers', TLS12_SUITES.join(':'), '--tls-ciphersuites', TLS13_SUITES.join(':'),
    '--dir', opts.dataDir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '',
    '--daemonize', 'no', '--logfile', '', '--loglevel', 'notice',
    ...(opts.extraArgs ?? []),
  ];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`redis-server did not start:\n${out}`)), 15_000);
    const fail = (e: Error) => { clearTimeout(timer); child.kill('SIGKILL'); reject(e); };
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        child.stdout!.removeAllListeners('data');
        child.stdout!.resume();
        resolve(child);
      }
    });
    child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
    child.once('exit', (code) => fail(new Error(`redis-server exited with ${code}:\n${out}`)));
    child.once('error', fail);
  });
}

const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));

export async function startLocalRedis(opts: LocalRedisOptions): Promise<LocalRedis> {
  if (!redisServerAvailable()) {
    throw new Error('redis-server not found on PATH. Install it: apt-get install -y redis-server (or run scripts/ensure-redis.sh)');
  }
  mkdirSync(opts.dataDir, { recursive: true });
  const port = opts.port ?? (await freePort());
  const handle: LocalRedis = {
    url: `rediss://127.0.0.1:${port}`,
    port,
    process: await launch(opts, port),
    async kill() {
      handle.process.kill('SIGKILL');
      await exited(handle.process);
    },
    async stop() {
      handle.process.kill('SIGTERM');
      await exited(handle.process);
    },
    async restart() {
      handle.process = await launch(opts, port);
    },
  };
  handle.process.removeAllListeners('exit');
  return handle;
}
