// Everything in Redis as one string, so a test can prove a secret is stored nowhere in clear.
import type { Redis } from '../../src/deps.ts';

export async function redisDump(redis: Redis): Promise<string> {
  const out: string[] = [];
  // KEYS, not SCAN: a plain command every Redis mode has (issue 18); test Redis stores are small.
  for (const keys of [await redis.keys('*')]) {
    for (const key of keys) {
      out.push(key);
      const type = await redis.type(key);
      if (type === 'string') out.push(String(await redis.get(key)));
      else if (type === 'hash') out.push(JSON.stringify(await redis.hGetAll(key)));
      else if (type === 'set') out.push(JSON.stringify(await redis.sMembers(key)));
      else if (type === 'list') out.push(JSON.stringify(await redis.lRange(key, 0, -1)));
      else if (type === 'zset') out.push(JSON.stringify(await redis.zRange(key, 0, -1)));
      else if (type === 'stream') out.push(JSON.stringify(await redis.xRange(key, '-', '+')));
      else throw new Error(`redisDump: unhandled type ${type} of ${key}`);
    }
  }
  return out.join('\n');
}
