// A real Redis Cluster on this machine for test/cluster/ (issue 18 item 5): 3 primaries with one
// replica each, TLS only (`--port 0`, `tls-cluster yes`, `tls-replication yes`), AOF fsync always
// (the transfer log refuses Redis without it). Nodes announce 127.0.0.1, which the test
// certificates name (dev-certs.ts LOCAL_NAMES). Nodes talk to each other with the client
// certificate, since the server certificate is for serverAuth only.
import { spawn } from 'node:child_process';
import { freePort, startLocalRedis, type LocalRedis } from '../../src/dev/local-redis.ts';
import type { RedisClient } from '../../src/redis/client.ts';
import { nodeClient, askNode } from './redis.ts';
import { testCerts, tmp } from './certs.ts';
import { waitFor } from './stack.ts';

export interface ClusterNode { port: number; url: string; server: LocalRedis }

export interface TestCluster {
  nodes: ClusterNode[];
  /** rediss:// seeds for redis.cluster.nodes. */
  seeds: string[];
  /** The port of the primary that owns `key` now. */
  primaryOf(key: string): Promise<number>;
  /** Ports of the primaries now. */
  primaries(): Promise<number[]>;
  /** SIGKILL the primary owning `key` and wait until its replica has taken over its slots. */
  killPrimaryOf(key: string): Promise<{ killed: number; promoted: number }>;
  /**
   * Start a killed node again (as a process supervisor would): it rejoins as a replica of the
   * primary that replaced it; resolves once that primary has it in sync again.
   */
  restart(port: number): Promise<void>;
  /** A plain client on one node (the caller destroys it). */
  client(port: number): Promise<RedisClient>;
  stop(): Promise<void>;
}

const NODE_TIMEOUT_MS = 1500;

export async function startTestCluster(): Promise<TestCluster> {
  const c = await testCerts();
  const tls = { ca: c.ca, cert: c.cert('gateway-client'), key: c.key('gateway-client') };
  const nodes: ClusterNode[] = [];
  try {
    for (let i = 0; i < 6; i++) {
      const bus = await freePort();
      const server = await startLocalRedis({
        ca: c.ca, cert: c.cert('redis'), key: c.key('redis'), dataDir: tmp('cluster'),
        extraArgs: [
          '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-port', String(bus),
          '--cluster-node-timeout', String(NODE_TIMEOUT_MS), '--tls-cluster', 'yes', '--tls-replication', 'yes',
          '--tls-client-cert-file', tls.cert, '--tls-client-key-file', tls.key,
          // A lost primary makes only its own slots unavailable until its replica takes over (what an
          // operator of a sharded deployment wants; the others keep serving).
          '--cluster-require-full-coverage', 'no', '--cluster-replica-validity-factor', '0',
          '--cluster-allow-replica-migration', 'no',
          // Replicas sync at once, not after the default 5 s wait for more replicas to join.
          '--repl-diskless-sync-delay', '0',
        ],
      });
      nodes.push({ port: server.port, url: server.url, server });
    }
    await run('redis-cli', ['--tls', '--cacert', tls.ca, '--cert', tls.cert, '--key', tls.key,
      '--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '1', '--cluster-yes']);
  } catch (e) {
    await Promise.allSettled(nodes.map((n) => n.server.kill()));
    throw e;
  }
  const dead = new Set<number>();
  const client = (port: number) => nodeClient(port, tls);
  const ask = <T>(port: number, fn: (r: RedisClient) => Promise<T>) => askNode(port, tls, fn);
  const live = () => nodes.filter((n) => !dead.has(n.port));
  const nodesTable = async () => {
    const port = live()[0]!.port;
    const text = await ask(port, (r) => r.sendCommand<string>(['CLUSTER', 'NODES']));
    return text.trim().split('\n').map((l) => l.split(' ')).map((f) => ({
      id: f[0]!, port: Number(f[1]!.split(':')[1]!.split('@')[0]), flags: f[2]!, master: f[3]!, slots: f.slice(8),
    }));
  };
  const primaries = async () => (await nodesTable()).filter((n) => n.flags.includes('master') && !n.flags.includes('fail') && n.slots.length > 0).map((n) => n.port);
  /** Every live node sees the cluster ok and agrees on three primaries that cover all slots. */
  const settled = async () => {
    for (const n of live()) {
      const info = await ask(n.port, (r) => r.sendCommand<string>(['CLUSTER', 'INFO']));
      if (!info.includes('cluster_state:ok') || !/cluster_slots_ok:16384/.test(info)) return false;
    }
    return true;
  };
  await waitFor(() => settled().catch(() => false), 30_000, 200);
  // Every primary has its replica in sync (WAIT in the transfer log counts on it).
  const synced = async () => {
    for (const port of await primaries()) {
      const info = await ask(port, (r) => r.info('replication'));
      if (!/slave0:.*state=online/.test(info)) return false;
    }
    return true;
  };
  await waitFor(() => synced().catch(() => false), 30_000, 200);

  const primaryOf = async (key: string) => {
    const slot = await ask(live()[0]!.port, (r) => r.sendCommand<number>(['CLUSTER', 'KEYSLOT', key]));
    const table = await nodesTable();
    const owner = table.find((n) => n.flags.includes('master') && !n.flags.includes('fail') && n.slots.some((s) => {
      const [a, b] = s.split('-').map(Number);
      return slot >= a! && slot <= (b ?? a!);
    }));
    if (!owner) throw new Error(`no primary owns slot ${slot}`);
    return owner.port;
  };
  return {
    nodes, seeds: nodes.slice(0, 3).map((n) => n.url), primaryOf, primaries, client,
    async killPrimaryOf(key) {
      const table = await nodesTable();
      const killed = await primaryOf(key);
      const id = table.find((n) => n.port === killed)!.id;
      const replica = table.find((n) => n.master === id)!;
      await nodes.find((n) => n.port === killed)!.server.kill();
      dead.add(killed);
      await waitFor(async () => {
        try {
          const role = await ask(replica.port, (r) => r.sendCommand<string[]>(['ROLE']));
          return role[0] === 'master' && (await settled());
        } catch { return false; }
      }, 30_000, 200);
      return { killed, promoted: replica.port };
    },
    async restart(port) {
      await nodes.find((n) => n.port === port)!.server.restart();
      dead.delete(port);
      await waitFor(() => synced().catch(() => false), 30_000, 200);
    },
    async stop() {
      await Promise.allSettled(nodes.filter((n) => !dead.has(n.port)).map((n) => n.server.kill()));
    },
  };
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} exited with ${code}:\n${out}`))));
  });
}
