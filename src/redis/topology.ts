// Node-level Redis work in every mode (issue 18 item 1): what cannot go through the routed command
// object (SCAN, CONFIG GET, INFO, DBSIZE run per node; WAIT must run on the connection that wrote).
import type { RedisClient } from './client.ts';

/** A plain client of one Redis node (has scanIterator, configGet, sendCommand). */
export type NodeClient = Pick<RedisClient, 'scanIterator' | 'configGet' | 'sendCommand' | 'info' | 'dbSize' | 'ping'>;

export type RedisMode = 'single' | 'sentinel' | 'cluster';

export interface RedisTopology {
  readonly mode: RedisMode;
  /** fn on a plain client of every primary (SCAN, CONFIG GET, INFO, PING, DBSIZE): one primary in
   *  single/sentinel mode, every master in cluster mode. */
  forEachPrimary<T>(fn: (node: NodeClient) => Promise<T>): Promise<T[]>;
  /** WAIT on the primary that owns `key`; resolves to how many replicas acknowledged. */
  waitReplicas(key: string, replicas: number, timeoutMs: number): Promise<number>;
}

const waitArgs = (replicas: number, timeoutMs: number) => ['WAIT', String(replicas), String(timeoutMs)];

/** Single mode: the one client is the primary. */
export function singleTopology(client: RedisClient): RedisTopology {
  return {
    mode: 'single',
    forEachPrimary: async (fn) => [await fn(client)],
    waitReplicas: (_key, replicas, timeoutMs) => client.sendCommand<number>(waitArgs(replicas, timeoutMs)),
  };
}

export interface ClusterLike {
  readonly masters: ReadonlyArray<object>;
  nodeClient(node: any): Promise<unknown>;
  getNodeClientForKey(key: string, isReadonly?: boolean): Promise<unknown>;
}

/** Cluster mode: every master; WAIT goes to the owner of the key's slot on the connection that wrote. */
export function clusterTopology(cluster: ClusterLike): RedisTopology {
  return {
    mode: 'cluster',
    forEachPrimary: (fn) => Promise.all(cluster.masters.map(async (m) => fn((await cluster.nodeClient(m)) as NodeClient))),
    // Not cluster.sendCommand(key, ...): node-redis 6 routes WAIT by its command policy (every
    // shard, minimum reply) whatever the key, so one shard's failover would hold every chain's
    // appends, and a node list gone stale (a killed primary back as a replica, no MOVED to correct
    // it) failed them for good. The slot owner's client is the connection the append's script
    // used (one per node), so WAIT counts the replicas that have this chain's writes.
    waitReplicas: async (key, replicas, timeoutMs) =>
      ((await cluster.getNodeClientForKey(key, false)) as NodeClient).sendCommand<number>(waitArgs(replicas, timeoutMs)),
  };
}

export interface SentinelLike {
  sendCommand<T>(isReadonly: boolean | undefined, args: string[]): Promise<T>;
}

/**
 * Sentinel mode: node-level reads on a plain client of the current primary (`primary()`, kept by
 * open.ts); WAIT through the sentinel object, whose one master connection (masterPoolSize 1) is
 * the one that wrote, so WAIT counts the replicas that have those writes.
 */
export function sentinelTopology(sentinel: SentinelLike, primary: () => Promise<NodeClient>): RedisTopology {
  return {
    mode: 'sentinel',
    forEachPrimary: async (fn) => [await fn(await primary())],
    waitReplicas: (_key, replicas, timeoutMs) => sentinel.sendCommand<number>(false, waitArgs(replicas, timeoutMs)),
  };
}
