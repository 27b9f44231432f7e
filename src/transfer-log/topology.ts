// What the transfer log asks of the Redis deployment beyond plain commands (issue [6/6] item 4):
// node-level calls (SCAN, CONFIG GET) on every primary, and WAIT on the primary that owns a key.
// A structural subset of src/redis/topology.ts's RedisTopology (engineer A), declared here so the
// log does not import the composition root; in single mode the one client is the one primary.
import type { Redis } from '../deps.ts';

/** A plain client of one node (scanIterator, configGet: not portable to cluster objects). */
export type LogNodeClient = Redis;

export interface LogTopology {
  readonly mode: 'single' | 'sentinel' | 'cluster';
  /** fn on a plain client of every primary: one in single/sentinel mode, every master in cluster mode. */
  forEachPrimary<T>(fn: (node: LogNodeClient) => Promise<T>): Promise<T[]>;
  /** WAIT on the primary that owns `key`; resolves to how many replicas acknowledged. */
  waitReplicas(key: string, replicas: number, timeoutMs: number): Promise<number>;
}

/** Single mode: the one client is the primary; WAIT on it covers what it just wrote. */
export function singleTopology(redis: Redis): LogTopology {
  return {
    mode: 'single',
    forEachPrimary: async (fn) => [await fn(redis)],
    waitReplicas: (_key, replicas, timeoutMs) => redis.wait(replicas, timeoutMs),
  };
}
