// Start bench/child.ts roles as separate processes and read their ports.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url));

export interface Proc { port: number; /** The gateway's control-plane listener. */ adminPort?: number; pid: number; child: ChildProcess; stop(): void }

export function startProc(role: string, dir: string, args: object): Promise<Proc> {
  const prof = process.env.BENCH_PROFILE === role ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROFILE_DIR ?? '/tmp'] : [];
  const child = spawn(process.execPath, [...prof, '--import', 'tsx', CHILD, role, dir, JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const line = out.split('\n')[0];
      if (out.includes('\n')) resolve({ ...(JSON.parse(line!) as { port: number; adminPort?: number }), pid: child.pid!, child, stop: () => child.kill('SIGTERM') });
    });
    child.once('exit', (code) => reject(new Error(`${role} exited with ${code}`)));
  });
}
