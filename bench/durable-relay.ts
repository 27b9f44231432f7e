// The floor of any gateway that logs before release: the bare relay plus one durable XADD of a
// log-entry-sized record per request (AOF fsync always), awaited before the answer is written.
// No auth, policy, hashing or indexes: how much of a target the durable log alone already uses.
import { createRedisClient } from '../src/deps.ts';
import type { TlsFiles } from '../src/tls/options.ts';
import { startRelay } from './relay.ts';

export async function startDurableRelay(upstream: string, redisUrl: string, client: TlsFiles, serverTls: { cert: string; key: string }): Promise<number> {
  const redis = createRedisClient(redisUrl, client, 2000);
  await redis.connect();
  const filler = 'x'.repeat(640);
  // Group commit, as the transfer log does: one batch on the wire at a time; whatever arrives
  // meanwhile waits for the next, so each fsync covers as many requests as possible.
  let queue: { e: string; done: (ok: boolean) => void }[] = [];
  let flushing = false;
  const flush = async (): Promise<void> => {
    flushing = true;
    try {
      while (queue.length) {
        const batch = queue;
        queue = [];
        const multi = redis.multi();
        for (const b of batch) multi.xAdd('bench:floor', '*', { e: b.e });
        const ok = await multi.execAsPipeline().then(() => true, () => false);
        for (const b of batch) b.done(ok);
      }
    } finally {
      flushing = false;
    }
  };
  const append = (id: string) => new Promise<void>((resolve, reject) => {
    queue.push({ e: `{"user":"${id}","pad":"${filler}"}`, done: (ok) => (ok ? resolve() : reject(new Error('append failed'))) });
    if (!flushing) void flush();
  });
  return startRelay(upstream, client, serverTls, append);
}
