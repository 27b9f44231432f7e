// Where Redis's CPU goes per request (issue 17 item 3): INFO commandstats, reset before a phase and
// read after it. Commands a Lua script runs are counted under their own names (ZADD, XADD, ...) as
// well as inside the script's EVALSHA, so the script rows include their commands' time.
import { createRedisClient } from '../src/deps.ts';
import type { TlsFiles } from '../src/tls/options.ts';

export interface CommandStat { calls: number; usec: number }

export async function redisStats(url: string, tls: TlsFiles) {
  const redis = createRedisClient(url, tls, 5000);
  await redis.connect();
  return {
    reset: async (): Promise<void> => { await redis.sendCommand(['CONFIG', 'RESETSTAT']); },
    read: async (): Promise<Record<string, CommandStat>> => {
      const info = String(await redis.sendCommand(['INFO', 'commandstats']));
      const out: Record<string, CommandStat> = {};
      for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) out[m[1]!] = { calls: Number(m[2]), usec: Number(m[3]) };
      return out;
    },
    /** used_memory in bytes (what the data set and Redis's own structures hold). */
    memory: async (): Promise<number> => Number(/^used_memory:(\d+)/m.exec(String(await redis.sendCommand(['INFO', 'memory'])))?.[1]),
    close: () => redis.quit(),
  };
}

/** "evalsha 40.1 (1.0 calls), xadd 9.2 (...)": Redis us and calls per request, largest first. */
export function perRequest(stats: Record<string, CommandStat>, requests: number, top = 12): string {
  return Object.entries(stats).sort((a, b) => b[1].usec - a[1].usec).slice(0, top)
    .map(([k, v]) => `${k} ${(v.usec / requests).toFixed(1)} (${(v.calls / requests).toFixed(2)} calls)`).join(', ');
}
