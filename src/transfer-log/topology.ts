// The node-level Redis work the transfer log needs (issue 18): CONFIG GET and SCAN on every
// primary, WAIT on the primary that owns the chain's keys. Structurally a subset of
// src/redis/topology.ts's RedisTopology (the gateway passes that one). Engineer A's bridge until
// the sharded log (engineer B) lands: without one, the Redis handed in is taken to be a plain
// single-node client, as it always was before issue 18.
import type { Redis } from '../deps.ts';
import type { RedisClient } from '../redis/client.ts';

export interface LogNode {
  scanIterator(o: { MATCH: string; COUNT: number }): AsyncIterable<unknown>;
  configGet(parameters: string[]): Promise<unknown>;
}

export interface LogTopology {
  forEachPrimary<T>(fn: (node: LogNode) => Promise<T>): Promise<T[]>;
  waitReplicas(key: string, replicas: number, timeoutMs: number): Promise<number>;
}

export function logTopology(redis: Redis, given?: LogTopology): LogTopology {
  if (given) return given;
  const node = redis as unknown as RedisClient;
  return {
    forEachPrimary: async (fn) => [await fn(node)],
    waitReplicas: (_key, replicas, timeoutMs) => node.sendCommand<number>(['WAIT', String(replicas), String(timeoutMs)]),
  };
}
