// Transfer log fixtures: a real TLS Redis (AOF, fsync always), real clients, in-memory keys.
import { randomBytes } from 'node:crypto';
import { createRedisClient, type Redis } from '../../src/deps.ts';
import type { RedisClient } from '../../src/redis/client.ts';
import { loadConfig } from '../../src/config/load.ts';
import { newSigningJwk } from '../../src/keys/files.ts';
import { createLogger } from '../../src/log.ts';
import { createTransferLog, type TransferLog, type TransferLogOptions, type AppendInput } from '../../src/transfer-log/index.ts';
import type { LocalRedis } from '../../src/dev/local-redis.ts';
import { join } from 'node:path';
import { compareIds } from '../../src/transfer-log/merge.ts';
import { testCerts, tmp } from './certs.ts';
import { startTestRedis } from './redis.ts';

export interface LogFixture {
  redis: LocalRedis;
  keys: { transferLog: Buffer; pseudonymMaster: Buffer; signingJwk: ReturnType<typeof newSigningJwk> };
  /** A connected client (closed by close()). */
  client(timeoutMs?: number): Promise<RedisClient>;
  /** A transfer log on its own client, as one gateway instance would have. */
  /** anchorsFile: where its statements are anchored (default: a fresh file of its own). */
  newLog(opts?: TransferLogOptions & { transferLog?: object; timeoutMs?: number; anchorsFile?: string; notices?: object }): Promise<TransferLog>;
  close(): Promise<void>;
}

export async function logFixture(redis?: LocalRedis, keyMaterial?: LogFixture['keys']): Promise<LogFixture> {
  const c = await testCerts();
  const server = redis ?? (await startTestRedis());
  const keys = keyMaterial ?? { transferLog: randomBytes(32), pseudonymMaster: randomBytes(32), signingJwk: newSigningJwk() };
  const clients: RedisClient[] = [];
  const logs: TransferLog[] = [];
  const client = async (timeoutMs = 1000) => {
    const r = createRedisClient(server.url, { ca: c.ca, cert: c.cert('gateway-client'), key: c.key('gateway-client') }, timeoutMs);
    r.on('error', () => undefined);
    await r.connect();
    clients.push(r);
    return r;
  };
  return {
    redis: server,
    keys,
    client,
    async newLog(opts = {}) {
      const { transferLog, timeoutMs, anchorsFile, notices, ...rest } = opts;
      const config = loadConfig({ requireFiles: [], overrides: { redis: { commandTimeoutMs: timeoutMs ?? 1000 },
        transferLog: { anchors: { file: anchorsFile ?? join(tmp('anchors'), 'anchors.jsonl') }, ...(transferLog ?? {}) } as never,
        ...(notices ? { notices: notices as never } : {}) } as never });
      const log = createTransferLog({ redis: await client(timeoutMs), keys, config, log: createLogger('silent') }, { scheduleRetention: false, ...rest });
      logs.push(log);
      return log;
    },
    async close() {
      for (const l of logs) await l.close().catch(() => undefined);
      for (const r of clients) r.destroy();
      if (!redis) await server.stop();
    },
  };
}

let n = 0;
/** A valid entry input; every user id, phone and e-mail in it is synthetic test data. */
export function released(over: Partial<AppendInput> = {}): AppendInput {
  n++;
  return {
    requestId: `req-${n}`, partnerId: 'p_acme', agreementId: 'agr_p_acme', agreementVersion: 2, purpose: 'advertising',
    userId: `u_${String(n).padStart(6, '0')}`, decision: 'released', reason: null, categories: ['gender', 'email'],
    destinationCountries: ['KZ'], legalBasis: 'consent', crossBorderBasis: 'domestic', policyVersion: '2024-03', keyVersion: 1,
    tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', clientCertThumbprint: null },
    deleteBy: '2027-01-15T00:00:00.000Z',
    // RULES 48 (issue [2/6]): the recipient's legal entity and the consent relied on (for the purpose in force).
    legalEntity: { name: 'Acme Analytics LLP', country: 'KZ', registrationNumber: null },
    consent: { purpose: over.purpose ?? 'advertising', grantedAt: '2026-01-10T00:00:00.000Z' }, ...over,
  } as AppendInput;
}

export function denied(over: Partial<AppendInput> = {}): AppendInput {
  return released({ decision: 'denied', reason: 'consent_required', ...over } as Partial<AppendInput>);
}

export async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Issue [6/6] item 2: every chain has its own entries stream. The rows of every chain, merged by
 * stream id as readers see them, each with the stream key it was read from (for tests that read
 * or rewrite the log directly).
 */
export async function entryRows(r: Redis, log: Pick<TransferLog, 'keys'>): Promise<Array<{ id: string; message: Record<string, string>; key: string }>> {
  const out: Array<{ id: string; message: Record<string, string>; key: string }> = [];
  for (const chain of (await r.sMembers(log.keys.chains)).sort()) {
    const key = log.keys.chain(chain).entries;
    for (const m of (await r.xRange(key, '-', '+')) ?? []) out.push({ id: m.id, message: m.message as Record<string, string>, key });
  }
  return out.sort((a, b) => compareIds({ streamId: a.id, chain: a.key }, { streamId: b.id, chain: b.key }));
}

/** How many entries every chain holds together. */
export async function entryCount(r: Redis, log: Pick<TransferLog, 'keys'>): Promise<number> {
  let n = 0;
  for (const chain of await r.sMembers(log.keys.chains)) n += await r.xLen(log.keys.chain(chain).entries);
  return n;
}
