// The pub/sub connection of the caches (LiveCache, SubscriberHeartbeat, PartnerTokenCache).
//
// Single mode: a duplicate of the command client. Sentinel and cluster mode: NodeSubscriber, one
// plain TLS connection to one node that moves to another node when its node is gone.
//
// Why plain PUBLISH/SUBSCRIBE in cluster mode, not sharded pub/sub (issue 18 item 3, "a documented
// equivalent"): every change is published by the same Lua script that makes it, so a message
// exists only if the change does (DESIGN 1). SPUBLISH inside a script must hash to the slot of the
// script's keys, so each cache would need one shard channel per slot its keys live in, and every
// subscriber a connection to every shard. Plain PUBLISH in a cluster reaches every node (primaries
// and replicas) over the cluster bus, so one connection to any node hears every change, and losing
// that node only means moving to another. The messages are few (admin changes, revocations, one
// heartbeat per instance every 500 ms), so the bus broadcast costs nothing worth sharding.
// The heartbeat (cache/subscriber-heartbeat.ts) is published through the command object, which
// sends it to whichever node it picks; it comes back only if the cluster bus and this connection
// both work, so it still proves the subscriber alive end to end.
import { EventEmitter } from 'node:events';
import { createClient } from 'redis';
import { clientTlsOptions, type TlsFiles } from '../tls/options.ts';
import type { Logger } from '../log.ts';
import { logOnce } from './client.ts';

export interface Subscriber {
  readonly isReady: boolean;
  on(event: 'ready' | 'reconnecting' | 'end' | 'error', listener: (...args: any[]) => void): unknown;
  subscribe(channel: string, listener: (message: string) => void): Promise<unknown>;
  unsubscribe(channel: string): Promise<unknown>;
  close(): Promise<unknown>;
}

export interface NodeAddress { host: string; port: number }

export interface NodeSubscriberOptions {
  /** The nodes worth trying now (cluster: every known node; sentinel: the current primary). */
  candidates(): NodeAddress[];
  tls: TlsFiles;
  connectTimeoutMs: number;
  log?: Logger;
}

const RETRIES_PER_NODE = 2;
const MOVE_DELAY_MS = 200;

export class NodeSubscriber extends EventEmitter implements Subscriber {
  private client: { subscribe(channel: string, fn: (message: string) => void): Promise<unknown>; unsubscribe(channel: string): Promise<unknown>; destroy(): void } | undefined;
  private readonly channels = new Map<string, Array<(message: string) => void>>();
  private next = 0;
  private closed = false;
  private ready = false;
  private moving: NodeJS.Timeout | undefined;

  constructor(private readonly o: NodeSubscriberOptions) {
    super();
    logOnce(this, o.log, 'redis subscriber');
  }

  get isReady(): boolean {
    return this.ready;
  }

  start(): void {
    this.connectNext();
  }

  async subscribe(channel: string, listener: (message: string) => void): Promise<void> {
    const fns = this.channels.get(channel) ?? [];
    this.channels.set(channel, [...fns, listener]);
    // Not connected: subscribed with the others when the next connection is ready.
    if (this.ready) await this.client!.subscribe(channel, listener);
  }

  async unsubscribe(channel: string): Promise<void> {
    this.channels.delete(channel);
    if (this.ready) await this.client!.unsubscribe(channel);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.ready = false;
    clearTimeout(this.moving);
    this.client?.destroy();
    this.client = undefined;
    this.emit('end');
  }

  private connectNext(): void {
    if (this.closed) return;
    const nodes = this.o.candidates();
    if (nodes.length === 0) return this.moveLater(); // e.g. no primary during a failover
    const node = nodes[this.next++ % nodes.length]!;
    let moved = false;
    const move = () => {
      if (moved || this.closed) return;
      moved = true;
      client.destroy();
      this.moveLater();
    };
    const client = createClient({
      RESP: 2,
      socket: {
        host: node.host, port: node.port, tls: true,
        ...clientTlsOptions(this.o.tls), // RULES 34: every node's certificate verified
        connectTimeout: this.o.connectTimeoutMs,
        // A node that stays unreachable is left for the next one (queueMicrotask: not while the
        // client is still inside its own reconnect loop).
        reconnectStrategy: (retries: number) => {
          if (retries < RETRIES_PER_NODE) return 100 * (retries + 1);
          queueMicrotask(move);
          return false;
        },
      },
      disableOfflineQueue: true,
    });
    this.client = client;
    client.on('error', (e: Error) => this.emit('error', e));
    client.on('reconnecting', () => this.notReady());
    client.on('end', () => { this.notReady(); move(); });
    let first = true;
    client.on('ready', () => void (async () => {
      try {
        // node-redis resubscribes by itself on a reconnect to the same node; a new node is ours.
        if (first) for (const [channel, fns] of this.channels) for (const fn of fns) await client.subscribe(channel, fn);
        first = false;
        if (this.client !== client || this.closed) return;
        this.ready = true;
        this.emit('ready');
      } catch (e) {
        this.emit('error', e as Error);
        move();
      }
    })());
    client.connect().catch(() => { this.notReady(); move(); });
  }

  private notReady(): void {
    if (!this.ready) return;
    this.ready = false;
    this.emit('reconnecting'); // the caches stop trusting memory until the next 'ready' and reload
  }

  private moveLater(): void {
    this.notReady();
    if (this.closed) return;
    clearTimeout(this.moving);
    this.moving = setTimeout(() => this.connectNext(), MOVE_DELAY_MS);
    this.moving.unref();
  }
}
