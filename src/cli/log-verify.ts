// partner-gateway log verify (CONTRACT 10): recompute every chain and check every checkpoint
// signature; exit 0 when intact, 1 naming the first broken entry (or when it cannot check).
// `--jwks FILE` verifies with a published public key set, so an auditor needs no private keys.
// `--anchors FILE` (issue [3/6] item 3) also checks Redis against an anchors file kept outside it.
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig, ConfigError } from '../config/load.ts';
import { openRedis } from '../redis/open.ts';
import { loadKeys } from '../keys/files.ts';
import { publicJwks, type Jwks } from '../transfer-log/jwks.ts';
import { logKeys } from '../transfer-log/keys.ts';
import { verifyLog, type VerifyResult } from '../transfer-log/verify.ts';
import { deadline } from '../transfer-log/deadline.ts';
import { receiptSubjects, verifyReceiptFile } from './log-verify-receipt.ts';
import { describeRecipients, rebuildRecipientsCommand } from './log-rebuild-recipients.ts';
import { IncidentStore } from '../incidents/store.ts';
import { fromVerify } from '../incidents/incident.ts';

export const LOG_USAGE = `usage: partner-gateway log verify [--jwks FILE] [--anchors FILE] [--receipt FILE] [--json]
       partner-gateway log rebuild-recipients [--json]`;

export async function logCommand(env: NodeJS.ProcessEnv, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { jwks: { type: 'string' }, anchors: { type: 'string' }, json: { type: 'boolean' }, receipt: { type: 'string' } } });
  if (positionals.join(' ') === 'rebuild-recipients' && values.jwks === undefined && values.anchors === undefined && values.receipt === undefined) {
    return rebuildRecipientsCommand(env, values.json ?? false);
  }
  if (positionals.join(' ') !== 'verify') {
    console.error(LOG_USAGE);
    return 2;
  }
  const config = loadConfig({ env, requireFiles: ['redis.tls.ca', 'redis.tls.cert', 'redis.tls.key'] });
  // Issue 18: the configured Redis mode; redis.url is needed in single mode only.
  if (config.redis.mode === 'single' && !config.redis.url) throw new ConfigError('redis.url: not set (rediss://host:port)');
  const jwks = values.jwks ? readJwks(resolve(values.jwks)) : gatewayJwks(config.keys.dir);
  const opened = openRedis(config.redis, undefined, { subscriber: false });
  const { redis, topology } = opened;
  redis.on('error', () => undefined); // reported below, once
  try {
    await deadline(opened.connect(), Math.max(5000, config.redis.commandTimeoutMs));
    if (values.receipt) return await verifyReceiptFile({ redis, keys: logKeys(), jwks, ...receiptSubjects(config.keys.dir) }, resolve(values.receipt), values.json === true);
    const r = await verifyLog(redis, logKeys(), jwks, { topology, ...(values.anchors ? { anchorsFile: resolve(values.anchors) } : {}) });
    console.log(values.json ? JSON.stringify(r) : describe(r));
    // RULES 50: a failed verify against the gateway's own keys opens an incident (the gateways'
    // /readyz and gateway_incidents_open show it). With --jwks the verdict rests on a key the
    // caller supplied, which is evidence for them, not a detection by the gateway.
    const incident = values.jwks ? null : fromVerify(r);
    if (incident) {
      const { id, opened } = await new IncidentStore(redis).open(incident, new Date(), config.incidents.notifyWithinHours);
      console.error(`partner-gateway: incident ${id} ${opened ? 'opened' : 'already open (counted)'}: ${incident.kind} (${incident.found})`);
    }
    return r.ok ? 0 : 1;
  } catch (e) {
    console.error(`partner-gateway: cannot verify the transfer log: ${(e as Error).message}`);
    return 1;
  } finally {
    await opened.close().catch(() => undefined);
  }
}

function describe(r: VerifyResult): string {
  const anchored = r.anchors ? `; ${r.anchors.lines} anchor lines checked (${r.anchors.pending} statements just stored, line pending)` : '; anchors not checked (--anchors FILE)';
  const counts = `${r.entries} entries in ${r.chains} chains, ${r.checkpoints} signed checkpoints, ${r.registry} chain registry statements${anchored}`;
  if (r.ok) return `transfer log intact: ${counts} (${r.unsigned} entries after the last checkpoint of their chain)${describeRecipients(r)}`;
  if (!r.brokenAt) return `transfer log NOT intact: ${counts}${describeRecipients(r)}`;
  const b = r.brokenAt;
  const where = b.anchorLine !== undefined && b.chain === null
    ? `anchors file line ${b.anchorLine}`
    : b.checkpoint && b.chain === null
    ? `checkpoint ${b.checkpoint}`
    : `chain ${b.chain} seq ${b.seq}${b.streamId ? ` (stream id ${b.streamId}, entry ${b.id})` : ''}`;
  return `transfer log NOT intact: first broken entry: ${where}: ${b.reason}: ${b.detail}\nchecked before the break: ${counts}`;
}

export function gatewayJwks(dir: string): Jwks {
  try {
    const keys = loadKeys(dir);
    return publicJwks(keys.signingJwk, keys.retiredSigningPublicJwks); // retired keys signed older checkpoints
  } catch (e) {
    throw new ConfigError(`${(e as Error).message} (or pass --jwks FILE)`);
  }
}

function readJwks(path: string): Jwks {
  try {
    const j = JSON.parse(readFileSync(path, 'utf8')) as Jwks;
    if (!Array.isArray(j.keys)) throw new Error('no "keys" array');
    return j;
  } catch (e) {
    throw new ConfigError(`--jwks: cannot read ${path} (${(e as Error).message})`);
  }
}
