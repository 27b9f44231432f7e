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

/** A process and all its descendants (`serve --workers N`: the primary and its workers). */
export function tree(pid: number): number[] {
  let kids: number[] = [];
  try {
    kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch { /* gone meanwhile */ }
  return [pid, ...kids.flatMap(tree)];
}

/** CPU ms of a process tree (a worker restarted meanwhile would be missed; none is in the bench). */
export function treeCpuMs(pid: number): number {
  return tree(pid).reduce((sum, p) => { try { return sum + cpuMs(p); } catch { return sum; } }, 0);
}

/**
 * Runs `work` and returns its result with the CPU ms each named process spent meanwhile. Names in
 * `trees` count their descendants too (the gateway's workers); the others only themselves (the
 * load generator is the parent of every server).
 */
export async function withCpu<T>(pids: Record<string, number>, work: () => Promise<T>, trees: readonly string[] = ['gateway']): Promise<{ result: T; cpu: Record<string, number> }> {
  const read = (k: string, pid: number) => (trees.includes(k) ? treeCpuMs(pid) : cpuMs(pid));
  const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, read(k, pid)]));
  const result = await work();
  const cpu = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, read(k, pid) - before[k]!]));
  return { result, cpu };
}

/** Resident set size of a process now, in bytes (statm's second field, in pages). */
export function rssBytes(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * 4096;
}

/** Resident set size of a process tree (the primary and its workers), in bytes. */
export function treeRssBytes(pid: number): number {
  return tree(pid).reduce((sum, p) => { try { return sum + rssBytes(p); } catch { return sum; } }, 0);
}

/** Samples a process's RSS every `everyMs` until stopped; returns the highest seen. */
export function rssPeak(pid: number, everyMs = 50): { stop(): number } {
  let peak = treeRssBytes(pid);
  const t = setInterval(() => { try { peak = Math.max(peak, treeRssBytes(pid)); } catch { clearInterval(t); } }, everyMs);
  return { stop: () => { clearInterval(t); return Math.max(peak, treeRssBytes(pid)); } };
}
