// What the transfer log asks of the Redis deployment beyond plain commands (issue [6/6] item 4):
// node-level calls (SCAN, CONFIG GET) on every primary, and WAIT on the primary that owns a key.
// A structural subset of src/redis/topology.ts's RedisTopology (Deps.redisTopology is passed in);
// without one, the Redis handed in is a plain single-node client, as before issue [6/6].
import type { Redis } from '../deps.ts';
import type { RedisClient } from '../redis/client.ts';
import { singleTopology as singleRedisTopology, type RedisMode } from '../redis/topology.ts';

/** A plain client of one node (scanIterator, configGet: not portable to cluster objects). */
export interface LogNodeClient {
  scanIterator(o: { MATCH: string; COUNT: number }): AsyncIterable<unknown>;
  configGet(parameters: string[]): Promise<unknown>;
}

export interface LogTopology {
  readonly mode: RedisMode;
  /** fn on a plain client of every primary: one in single/sentinel mode, every master in cluster mode. */
  forEachPrimary<T>(fn: (node: LogNodeClient) => Promise<T>): Promise<T[]>;
  /** WAIT on the primary that owns `key`; resolves to how many replicas acknowledged. */
  waitReplicas(key: string, replicas: number, timeoutMs: number): Promise<number>;
}

/** Single mode (src/redis/topology.ts's): the one client is the primary; WAIT on it covers what it just wrote. */
export function singleTopology(redis: Redis): LogTopology {
  // Only a single-mode caller omits the topology, and there the Redis is a plain client.
  return singleRedisTopology(redis as unknown as RedisClient);
}
