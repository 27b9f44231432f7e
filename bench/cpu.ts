// CPU time and memory of a benchmark process, read from /proc (Linux): per-request CPU cost is steadier
// than requests/s on a 2-core machine where the load generator, store and Redis share the cores.
import { readFileSync } from 'node:fs';

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** utime + stime of a process, in ms. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * TICK_MS;
}

/** Runs `work` and returns its result with the CPU ms each named process spent meanwhile. */
export async function withCpu<T>(pids: Record<string, number>, work: () => Promise<T>): Promise<{ result: T; cpu: Record<string, number> }> {
  const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuMs(pid)]));
  const result = await work();
  const cpu = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuMs(pid) - before[k]!]));
  return { result, cpu };
}

/** Resident set size of a process now, in bytes (statm's second field, in pages). */
export function rssBytes(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * 4096;
}

/** Samples a process's RSS every `everyMs` until stopped; returns the highest seen. */
export function rssPeak(pid: number, everyMs = 50): { stop(): number } {
  let peak = rssBytes(pid);
  const t = setInterval(() => { peak = Math.max(peak, rssBytes(pid)); }, everyMs);
  return { stop: () => { clearInterval(t); return Math.max(peak, rssBytes(pid)); } };
}
