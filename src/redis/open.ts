// The one place that opens Redis, in the mode the configuration names (issue 18 item 1). Every
// mode: TLS with the CA and host name verified on every node, also nodes discovered later
// (RULES 34); commands fail at once while disconnected instead of queueing (DESIGN 1); the
// connection is retried in the background and readiness is false meanwhile.
import { createCluster, createSentinel } from 'redis';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import { clientTlsOptions } from '../tls/options.ts';
import { createRedisClient, logOnce, reconnectStrategy, type RedisClient } from './client.ts';
import { NodeSubscriber, type NodeAddress, type Subscriber } from './subscriber.ts';
import { clusterTopology, sentinelTopology, singleTopology, type NodeClient, type RedisTopology } from './topology.ts';
import type { Redis } from './types.ts';

export interface OpenedRedis {
  /** Commands (routed by first key in cluster mode, to the primary in sentinel mode). */
  redis: Redis;
  /** The pub/sub connection of the caches. */
  sub: Subscriber;
  topology: RedisTopology;
  /** Connect without blocking start-up on an outage: keeps retrying in the background. */
  connectInBackground(): void;
  /** Connect now, or throw (CLI commands). */
  connect(): Promise<void>;
  close(): Promise<void>;
}

type RedisConfig = Pick<Config['redis'], 'mode' | 'url' | 'sentinel' | 'cluster' | 'tls' | 'commandTimeoutMs'>;

const RETRY_MS = 1000;

export function address(url: string): NodeAddress {
  const u = new URL(url);
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 6379) };
}

/** Opens nothing yet: `connect` / `connectInBackground` do. `subscriber: false` for the CLI. */
export function openRedis(r: RedisConfig, log?: Logger, opts: { subscriber?: boolean } = {}): OpenedRedis {
  if (r.mode === 'cluster') return openCluster(r, log, opts.subscriber ?? true);
  if (r.mode === 'sentinel') return openSentinel(r, log, opts.subscriber ?? true);
  return openSingle(r, log, opts.subscriber ?? true);
}

function openSingle(r: RedisConfig, log: Logger | undefined, withSub: boolean): OpenedRedis {
  if (!r.url) throw new Error('redis.url: not set (rediss://host:port); `partner-gateway demo` starts a local one');
  const client = createRedisClient(r.url, r.tls, r.commandTimeoutMs, log);
  const sub = client.duplicate();
  sub.on('error', () => undefined); // reported by the main client
  const start = (c: RedisClient) => c.connect().catch((e: Error) => log?.warn({ err: { message: e.message } }, 'redis not reachable at start'));
  return {
    redis: client, sub, topology: singleTopology(client),
    connectInBackground() { void start(client); if (withSub) void start(sub); },
    async connect() { await client.connect(); if (withSub) await sub.connect(); },
    async close() { await Promise.allSettled([client.isOpen ? client.close() : undefined, sub.isOpen ? sub.close() : undefined]); },
  };
}

/** The socket settings of every data node (and the subscriber's): verified TLS, background reconnect. */
function nodeSocket(r: RedisConfig) {
  return { tls: true as const, ...clientTlsOptions(r.tls), connectTimeout: r.commandTimeoutMs, reconnectStrategy };
}

/**
 * Until the first connect succeeds node-redis's cluster and sentinel objects do not retry by
 * themselves, so the first connect is retried here until it does (or the object is closed).
 */
function retryConnect(connect: () => Promise<unknown>, closed: () => boolean, log?: Logger, what = 'redis'): void {
  let warned = false;
  const attempt = () => {
    if (closed()) return;
    connect().catch((e: Error) => {
      if (!warned) log?.warn({ err: { message: e.message } }, `${what} not reachable at start; retrying`);
      warned = true;
      setTimeout(attempt, RETRY_MS).unref();
    });
  };
  attempt();
}

function openCluster(r: RedisConfig, log: Logger | undefined, withSub: boolean): OpenedRedis {
  const seeds = r.cluster.nodes.map(address);
  const cluster = createCluster({
    rootNodes: r.cluster.nodes.map((url) => ({ url })),
    // The known pitfall (issue 18 item 1): settings on rootNodes apply to the seeds only; nodes
    // discovered from CLUSTER SLOTS get `defaults`. Without TLS here they would connect in plain
    // text and hang silently. RULES 34: every node verified against redis.tls.ca.
    defaults: { socket: nodeSocket(r), disableOfflineQueue: true },
    RESP: 2, // the reply format the code was written against (see client.ts)
  });
  logOnce(cluster, log, 'redis cluster');
  const sub = new NodeSubscriber({
    // Any node hears a plain PUBLISH (subscriber.ts); the known nodes first, the seeds as fallback.
    candidates: () => [...cluster.masters, ...cluster.replicas].map((n) => ({ host: n.host, port: n.port })).concat(seeds),
    tls: r.tls, connectTimeoutMs: r.commandTimeoutMs, log,
  });
  let closed = false;
  return {
    redis: cluster, sub, topology: clusterTopology(cluster),
    connectInBackground() {
      retryConnect(async () => { await cluster.connect(); if (withSub) sub.start(); }, () => closed, log, 'redis cluster');
    },
    async connect() { await cluster.connect(); if (withSub) sub.start(); },
    async close() {
      closed = true;
      await Promise.allSettled([sub.close(), cluster.isOpen ? cluster.close() : undefined]);
    },
  };
}

function openSentinel(r: RedisConfig, log: Logger | undefined, withSub: boolean): OpenedRedis {
  const sentinel = createSentinel({
    name: r.sentinel.name!,
    sentinelRootNodes: r.sentinel.nodes.map(address),
    // RULES 34: TLS to the Sentinels and to every data node they name, verified.
    sentinelClientOptions: { socket: { tls: true, ...clientTlsOptions(r.tls), connectTimeout: r.commandTimeoutMs } },
    nodeClientOptions: { socket: nodeSocket(r), disableOfflineQueue: true },
    // One connection to the primary, so WAIT counts the replicas that have this instance's writes.
    masterPoolSize: 1,
    RESP: 2,
  });
  logOnce(sentinel, log, 'redis sentinel');
  const sub = new NodeSubscriber({
    candidates: () => { const m = sentinel.getMasterNode(); return m ? [{ host: m.host, port: m.port }] : []; },
    tls: r.tls, connectTimeoutMs: r.commandTimeoutMs, log,
  });
  // A plain client of the current primary for node-level reads (SCAN, CONFIG GET), moved when the
  // primary changes.
  let node: { at: string; client: RedisClient; connected: Promise<unknown> } | undefined;
  const primary = async (): Promise<NodeClient> => {
    const m = sentinel.getMasterNode();
    if (!m) throw new Error('redis sentinel: no primary known');
    const at = `${m.host}:${m.port}`;
    if (node?.at !== at) {
      if (node?.client.isOpen) node.client.destroy();
      const client = createRedisClient(`rediss://${m.host.includes(':') ? `[${m.host}]` : m.host}:${m.port}`, r.tls, r.commandTimeoutMs);
      client.on('error', () => undefined); // reported by the sentinel object
      node = { at, client, connected: client.connect() }; // concurrent callers share one connection
    }
    await node.connected;
    return node.client;
  };
  let closed = false;
  return {
    redis: sentinel, sub, topology: sentinelTopology(sentinel, primary),
    connectInBackground() {
      retryConnect(async () => { await sentinel.connect(); if (withSub) sub.start(); }, () => closed, log, 'redis sentinel');
    },
    async connect() { await sentinel.connect(); if (withSub) sub.start(); },
    async close() {
      closed = true;
      if (node?.client.isOpen) node.client.destroy();
      await Promise.allSettled([sub.close(), sentinel.isOpen ? sentinel.close() : undefined]);
    },
  };
}
