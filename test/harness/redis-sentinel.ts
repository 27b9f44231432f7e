// A real Sentinel deployment on this machine for test/cluster/ (issue 18 item 5): a primary with
// two replicas and three Sentinels, everything TLS only (`--port 0`, `tls-replication yes`, the
// Sentinels' own `tls-port`), AOF fsync always (the transfer log refuses Redis without it), and
// short `down-after-milliseconds` / `failover-timeout` so a test sees a failover in seconds.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, startLocalRedis, type LocalRedis } from '../../src/dev/local-redis.ts';
import { TLS12_SUITES, TLS13_SUITES } from '../../src/tls/options.ts';
import type { RedisClient } from '../../src/redis/client.ts';
import { nodeClient, askNode } from './redis.ts';
import { testCerts, tmp } from './certs.ts';
import { waitFor } from './stack.ts';

export const SENTINEL_NAME = 'pgtest';

export interface TestSentinel {
  name: string;
  /** The data nodes; [0] is the first primary. */
  servers: LocalRedis[];
  /** rediss:// of the three Sentinels, for redis.sentinel.nodes. */
  sentinels: string[];
  /** The port of the primary the Sentinels name now. */
  primaryPort(): Promise<number>;
  /** SIGKILL the primary and wait until the Sentinels have promoted a replica; returns both ports. */
  killPrimary(): Promise<{ killed: number; promoted: number }>;
  /** A plain client on a data node (the caller destroys it). */
  client(port: number): Promise<RedisClient>;
  stop(): Promise<void>;
}

export async function startTestSentinel(): Promise<TestSentinel> {
  const c = await testCerts();
  const tls = { ca: c.ca, cert: c.cert('gateway-client'), key: c.key('gateway-client') };
  // Nodes connect to each other with the client certificate (the server one is serverAuth only).
  const replication = ['--tls-replication', 'yes', '--tls-client-cert-file', tls.cert, '--tls-client-key-file', tls.key, '--repl-diskless-sync-delay', '0'];
  const servers: LocalRedis[] = [];
  const sentinelProcs: ChildProcess[] = [];
  const sentinelPorts: number[] = [];
  const dead = new Set<number>();
  const node = (extra: string[]) => startLocalRedis({ ca: c.ca, cert: c.cert('redis'), key: c.key('redis'), dataDir: tmp('sentinel-node'), extraArgs: [...replication, ...extra] });
  const client = (port: number) => nodeClient(port, tls);
  const ask = <T>(port: number, fn: (r: RedisClient) => Promise<T>) => askNode(port, tls, fn);
  const stop = async () => {
    for (const p of sentinelProcs) p.kill('SIGKILL');
    await Promise.allSettled(servers.filter((s) => !dead.has(s.port)).map((s) => s.kill()));
  };
  try {
    servers.push(await node([]));
    const primary = servers[0]!.port;
    for (let i = 0; i < 2; i++) servers.push(await node(['--replicaof', '127.0.0.1', String(primary)]));
    await waitFor(async () => {
      const info = await ask(primary, (r) => r.info('replication')).catch(() => '');
      return (info.match(/state=online/g) ?? []).length === 2;
    }, 30_000, 200);
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const dir = tmp('sentinel');
      const conf = join(dir, 'sentinel.conf');
      writeFileSync(conf, [
        'port 0', `tls-port ${port}`, 'bind 127.0.0.1', `dir ${dir}`,
        `tls-cert-file ${c.cert('redis')}`, `tls-key-file ${c.key('redis')}`, `tls-ca-cert-file ${c.ca}`,
        `tls-client-cert-file ${tls.cert}`, `tls-client-key-file ${tls.key}`,
        'tls-auth-clients yes', 'tls-replication yes', 'tls-protocols "TLSv1.2 TLSv1.3"',
        `tls-ciphers ${TLS12_SUITES.join(':')}`, `tls-ciphersuites ${TLS13_SUITES.join(':')}`,
        'sentinel announce-ip 127.0.0.1', `sentinel announce-port ${port}`,
        `sentinel monitor ${SENTINEL_NAME} 127.0.0.1 ${primary} 2`,
        `sentinel down-after-milliseconds ${SENTINEL_NAME} 1000`,
        `sentinel failover-timeout ${SENTINEL_NAME} 5000`,
        `sentinel parallel-syncs ${SENTINEL_NAME} 2`,
        '',
      ].join('\n'));
      const proc = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
      sentinelProcs.push(proc);
      sentinelPorts.push(port);
    }
    // Every Sentinel knows the other two and both replicas.
    await waitFor(async () => {
      for (const port of sentinelPorts) {
        const m = await ask(port, (r) => r.sendCommand<string[]>(['SENTINEL', 'MASTER', SENTINEL_NAME])).catch(() => [] as string[]);
        const f = new Map<string, string>();
        for (let i = 0; i + 1 < m.length; i += 2) f.set(m[i]!, m[i + 1]!);
        if (f.get('num-other-sentinels') !== '2' || f.get('num-slaves') !== '2') return false;
      }
      return true;
    }, 30_000, 200);
  } catch (e) {
    await stop();
    throw e;
  }
  const primaryPort = async () => {
    for (const port of sentinelPorts) {
      const a = await ask(port, (r) => r.sendCommand<string[]>(['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', SENTINEL_NAME])).catch(() => null);
      if (a) return Number(a[1]);
    }
    throw new Error('no Sentinel answers');
  };
  return {
    name: SENTINEL_NAME, servers, sentinels: sentinelPorts.map((p) => `rediss://127.0.0.1:${p}`), primaryPort, client,
    async killPrimary() {
      const killed = await primaryPort();
      await servers.find((s) => s.port === killed)!.kill();
      dead.add(killed);
      let promoted = killed;
      await waitFor(async () => {
        promoted = await primaryPort().catch(() => killed);
        if (promoted === killed) return false;
        const role = await ask(promoted, (r) => r.sendCommand<string[]>(['ROLE'])).catch(() => ['']);
        return role[0] === 'master';
      }, 60_000, 200);
      return { killed, promoted };
    },
    stop,
  };
}
