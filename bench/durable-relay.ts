// The floor of any gateway that logs before release: the bare relay plus one durable XADD of a
// log-entry-sized record per request (AOF fsync always), awaited before the answer is written.
// No auth, policy, hashing or indexes: how much of a target the durable log alone already uses.
import { Pool } from 'undici';
import { createRedisClient } from '../src/deps.ts';
import { clientTlsOptions, type TlsFiles } from '../src/tls/options.ts';
import { createHttpsServer, listen } from '../src/tls/server.ts';

export async function startDurableRelay(upstream: string, redisUrl: string, client: TlsFiles, serverTls: { cert: string; key: string }): Promise<number> {
  const pool = new Pool(upstream, { connections: 64, connect: clientTlsOptions(client) });
  const redis = createRedisClient(redisUrl, client, 2000);
  await redis.connect();
  const filler = 'x'.repeat(640);
  // Group commit, as the transfer log does: one batch on the wire at a time; whatever arrives
  // meanwhile waits for the next, so each fsync covers as many requests as possible.
  let queue: { e: string; done: (ok: boolean) => void }[] = [];
  let flushing = false;
  const flush = async (): Promise<void> => {
    flushing = true;
    while (queue.length) {
      const batch = queue;
      queue = [];
      const multi = redis.multi();
      for (const b of batch) multi.xAdd('bench:floor', '*', { e: b.e });
      const ok = await multi.execAsPipeline().then(() => true, () => false);
      for (const b of batch) b.done(ok);
    }
    flushing = false;
  };
  const append = (e: string) => new Promise<void>((resolve, reject) => {
    queue.push({ e, done: (ok) => (ok ? resolve() : reject(new Error('append failed'))) });
    if (!flushing) void flush();
  });
  const server = createHttpsServer(serverTls, (req, res) => {
    const id = (req.url ?? '').split('/').pop()!;
    pool.request({ path: `/users/${id}`, method: 'GET' }).then(async (up) => {
      const body = Buffer.from(await up.body.arrayBuffer());
      await append(`{"user":"${id}","pad":"${filler}"}`);
      res.writeHead(up.statusCode, { 'content-type': 'application/json' });
      res.end(body);
    }).catch(() => { res.writeHead(503); res.end(); });
  });
  return listen(server, 0, '127.0.0.1');
}
