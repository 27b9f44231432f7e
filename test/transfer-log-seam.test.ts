// Issue [6/6] item 4 (the transfer log's seam), in single mode with a real replica: a second
// redis-server replicates the first over TLS; the primary dies, the replica is promoted
// (REPLICAOF NO ONE) and the writer is pointed at it (a TCP forwarder in front of both, as a
// virtual IP or DNS switch would; TLS stays end to end). Appends fail closed meanwhile and resume
// by themselves; the interrupted chain gets an end statement and `verify` reports the seam as a
// seam, not as tampering. Without WAIT (replicas 0), a released entry the replica never had is
// reported as lost.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { logFixture, released, until, type LogFixture } from './harness/transfer-log.ts';
import { startTestRedis } from './harness/redis.ts';
import { testCerts, tmp } from './harness/certs.ts';
import { freePort, type LocalRedis } from '../src/dev/local-redis.ts';
import type { TransferLog } from '../src/transfer-log/index.ts';

/** Plain TCP forwarding to whichever Redis is primary now; switching drops every open connection. */
async function forwarder(target: number): Promise<{ port: number; to(port: number): void; close(): Promise<void> }> {
  const open = new Set<Socket>();
  let to = target;
  const server: Server = createServer((client) => {
    const upstream = connect(to, '127.0.0.1');
    open.add(client).add(upstream);
    const drop = () => { client.destroy(); upstream.destroy(); open.delete(client); open.delete(upstream); };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream).pipe(client);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    to(p) { to = p; for (const s of open) s.destroy(); open.clear(); },
    close: () => new Promise<void>((resolve) => { for (const s of open) s.destroy(); server.close(() => resolve()); }),
  };
}

interface Pair { primary: LocalRedis; replica: LocalRedis; fwd: Awaited<ReturnType<typeof forwarder>>; fx: LogFixture; spare?: LocalRedis }
const pairs: Pair[] = [];
after(async () => {
  for (const p of pairs) {
    await p.fx.close();
    await p.fwd.close();
    for (const r of [p.primary, p.replica, ...(p.spare ? [p.spare] : [])]) if (r.process.exitCode === null && r.process.signalCode === null) await r.stop();
  }
});

/** A primary, a TLS replica of it (its own client certificate), and a fixture whose clients go through the forwarder. */
const replicaOf = async (port: number) => {
  const c = await testCerts();
  return startTestRedis(['--replicaof', '127.0.0.1', String(port), '--tls-replication', 'yes',
    '--tls-client-cert-file', c.cert('gateway-client'), '--tls-client-key-file', c.key('gateway-client')]);
};

/** Waits until `replica` has a live link to its primary. */
async function linked(replica: LocalRedis): Promise<void> {
  const direct = await logFixture(replica);
  const r = await direct.client();
  await until(async () => /master_link_status:up/.test(await r.info('replication')), 10_000);
  await direct.close();
}

async function replicated(): Promise<Pair> {
  const primary = await startTestRedis();
  const replica = await replicaOf(primary.port);
  const fwd = await forwarder(primary.port);
  const fx = await logFixture({ ...primary, url: `rediss://127.0.0.1:${fwd.port}` });
  const pair: Pair = { primary, replica, fwd, fx };
  pairs.push(pair);
  await linked(replica);
  return pair;
}

/** Detach the replica (a partition: it keeps what it has), kill the primary, promote the replica, point the writer at it. */
async function failover(p: Pair, detachedWrite: () => Promise<unknown>): Promise<void> {
  const direct = await logFixture(p.replica);
  const r = await direct.client();
  await r.replicaOf('127.0.0.1', await freePort()); // replicates from nowhere: nothing more arrives
  await detachedWrite();
  await p.primary.kill(); // SIGKILL
  await r.sendCommand(['REPLICAOF', 'NO', 'ONE']);
  await direct.close();
  p.fwd.to(p.replica.port);
}

async function appendUntilOk(log: TransferLog): Promise<Awaited<ReturnType<TransferLog['append']>>> {
  for (let i = 0; ; i++) {
    try { return await log.append(released()); } catch (e) {
      assert.equal((e as { code?: string }).code, 'audit_unavailable', String(e)); // fails closed meanwhile
      if (i > 100) throw e;
      await sleep(100);
    }
  }
}

test('failover with WAIT: appends fail closed, then resume on a new chain; verify explains the seam (what was lost was never released)', async () => {
  const p = await replicated();
  const anchors = join(tmp('anchors'), 'anchors.jsonl');
  const log = await p.fx.newLog({ anchorsFile: anchors, transferLog: { replicas: 1, waitTimeoutMs: 300, checkpointEvery: 1000 } });
  const kept = await log.appendMany(Array.from({ length: 5 }, () => released()));
  const chain = kept[0]!.chain;
  await failover(p, async () => {
    // Stored on the primary and anchored, but no replica acknowledges it: never released.
    await assert.rejects(log.append(released()), (e: { code?: string }) => e.code === 'audit_unavailable');
  });
  await assert.rejects(log.append(released()), (e: { code?: string }) => e.code === 'audit_unavailable');
  // The promoted primary gets a replica of its own (as the old primary would rejoin), so WAIT can be met again.
  p.spare = await replicaOf(p.replica.port);
  await linked(p.spare);
  const next = await appendUntilOk(log);
  assert.notEqual(next.chain, chain, 'a new chain after the failover');
  // Usually seq 1; on a loaded machine the first append of the new chain may still miss the new
  // replica's WAIT (stored, 503, not released) and the next one continues the chain (CI saw seq 2).
  assert.ok(next.seq >= 1);

  const v = await log.verify();
  assert.equal(v.ok, true, JSON.stringify(v.brokenAt ?? v.recipients));
  // Seq 6 was stored on the dead primary only; seq 7 was sent while it was down. Neither was released.
  assert.deepEqual(v.seams, [{ chain, endSeq: 5, released: 5, lostUnreleased: 2 }]);
  assert.equal(v.entries, 5 + next.seq, 'the old chain\'s 5 and the new chain\'s');
  // The anchors file still names the lost batch (seq 6): explained by the end statement, not "missing".
  const lines = readFileSync(anchors, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { jws?: string });
  const kinds = lines.filter((l) => l.jws).map((l) => JSON.parse(Buffer.from(l.jws!.split('.')[1]!, 'base64url').toString()) as { kind: string; chain: string; seq: number });
  assert.ok(kinds.some((k) => k.kind === 'batch' && k.chain === chain && k.seq === 6), 'the lost batch was anchored');
  assert.ok(kinds.some((k) => k.kind === 'end' && k.chain === chain && k.seq === 5), 'the end statement is anchored');
  // The closed chain takes nothing more, not even a late batch: its head is marked closed.
  const r = await p.fx.client();
  assert.match((await r.get(log.keys.chain(chain).head)) ?? '', /^5:[0-9a-f]{64}:end$/);
});

test('failover without WAIT: a released entry the replica never had is reported lost, naming the chain and seq', async () => {
  const p = await replicated();
  const log = await p.fx.newLog({ transferLog: { replicas: 0 } });
  const kept = await log.appendMany(Array.from({ length: 3 }, () => released()));
  const chain = kept[0]!.chain;
  let lost = null as Awaited<ReturnType<TransferLog['append']>> | null;
  await failover(p, async () => { lost = await log.append(released()); }); // released: nothing waited for a replica
  assert.equal(lost!.seq, 4);
  await appendUntilOk(log);
  const v = await log.verify();
  assert.equal(v.ok, false);
  assert.equal(v.brokenAt?.reason, 'missing');
  assert.equal(v.brokenAt?.chain, chain);
  assert.equal(v.brokenAt?.seq, 4);
  assert.match(v.brokenAt?.detail ?? '', /released/);
});
