// `partner-gateway log rebuild-recipients` (issue 15 item 5): rebuild the recipients index from
// the entries of an intact log, and say what changed. Idempotent: a record that already matches
// is left alone. Safe while gateways append: each record is replaced atomically, and only when no
// entry of its subject was appended past the scanned tail (recipients-check.ts). The retention
// job is kept out by its own lock, so no trim or prune runs in between.
import { randomUUID } from 'node:crypto';
import type { Redis } from '../deps.ts';
import type { Jwks } from './jwks.ts';
import type { LogKeys } from './keys.ts';
import { TRIM_LOCK_MS } from './trim.ts';
import { verifyLog, type VerifyResult } from './verify.ts';
import type { LogTopology } from './topology.ts';

const RELEASE_LOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export type RebuildResult = { ran: true; result: VerifyResult } | { ran: false; why: string };

/** `topology`: SCAN on every primary (issue [6/6] item 4); default: the one client is the one primary. */
export async function rebuildRecipients(redis: Redis, keys: LogKeys, jwks: Jwks, topology?: LogTopology): Promise<RebuildResult> {
  const token = randomUUID();
  if ((await redis.set(keys.trimLock, token, { condition: 'NX', expiration: { type: 'PX', value: TRIM_LOCK_MS } })) !== 'OK') {
    return { ran: false, why: 'the retention job is running (trim lock held); try again when it is done' };
  }
  try {
    return { ran: true, result: await verifyLog(redis, keys, jwks, { repairRecipients: true, ...(topology ? { topology } : {}) }) };
  } finally {
    await redis.eval(RELEASE_LOCK, { keys: [keys.trimLock], arguments: [token] }).catch(() => undefined);
  }
}
