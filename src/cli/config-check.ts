// partner-gateway config check [--for serve|core-store] FILE (issue [6/6] item 6): validates a
// configuration file as `serve` (or `core-store`) would load it, and runs the start-up checks that
// open nothing, without listening, connecting to Redis or the store, or writing anything.
// Prints `ok: FILE (summary)` and exits 0, or the one line `serve` would print and exits 1 (main.ts).
import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig, ConfigError, ENV_OVERRIDES } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { startupChecks } from '../deps.ts';
import { loadKeys } from '../keys/files.ts';
import { webhookTls } from '../notices/webhook-tls.ts';
import { checkCertificates, type CertificateValidity } from '../tls/certificate-validity.ts';

const USAGE = 'usage: partner-gateway config check [--for serve|core-store] FILE';

export function configCommand(env: NodeJS.ProcessEnv, args: string[]): number {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { for: { type: 'string', default: 'serve' } } });
  const [sub, file, ...extra] = positionals;
  if (sub !== 'check' || file === undefined || extra.length > 0 || (values.for !== 'serve' && values.for !== 'core-store')) {
    console.error(USAGE);
    return 2;
  }
  const path = resolve(file);
  // A missing file would otherwise read as "GATEWAY_CONFIG: cannot read"; name what was asked for.
  if (!existsSync(path)) throw new ConfigError(`${file}: file not found`);
  // Exactly as the service loads it: this file in place of GATEWAY_CONFIG, the same environment
  // overrides (listed in the summary, so a check in a shell without them is not mistaken for one with).
  const runEnv = { ...env, GATEWAY_CONFIG: path };
  const summary = values.for === 'serve' ? checkServe(runEnv) : checkCoreStore(runEnv);
  const overridden = Object.keys(ENV_OVERRIDES).filter((name) => env[name] !== undefined && env[name] !== '');
  if (overridden.length) summary.push(`environment overrides ${overridden.join(', ')}`);
  console.log(`ok: ${file} (${summary.join(', ')})`);
  return 0;
}

function checkServe(env: NodeJS.ProcessEnv): string[] {
  const config = loadConfig({ env });
  // RULES 36 and the bootstrap token: what serve checks before it opens anything.
  const { certificates } = startupChecks(config, { bootstrapAdminToken: env.BOOTSTRAP_ADMIN_TOKEN || undefined });
  // What createDeps reads from disk before connecting: key material, the webhook CA.
  try {
    loadKeys(config.keys.dir);
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0]!;
    throw new ConfigError(msg.startsWith('keys.dir') ? msg : `keys.dir: ${msg}`);
  }
  webhookTls(config.notices.webhookCa);
  return [...redisSummary(config), listeners(config), certificateSummary(certificates)];
}

function checkCoreStore(env: NodeJS.ProcessEnv): string[] {
  // As `core-store` loads it: only the store's own files must exist (cli/core-store.ts).
  const config = loadConfig({ env, requireFiles: ['coreStore.tls.cert', 'coreStore.tls.key'] });
  if (config.coreStore.data && !existsSync(config.coreStore.data)) throw new ConfigError(`coreStore.data: file not found (${config.coreStore.data})`);
  const certificates = checkCertificates([{ setting: 'coreStore.tls.cert', path: config.coreStore.tls.cert }], new Date()); // RULES 36
  const cs = config.coreStore;
  const data = cs.data ? 'users from coreStore.data' : `${cs.users} synthetic users`;
  return [`core store ${cs.host}:${cs.port}`, data, certificateSummary(certificates)];
}

function redisSummary(config: Config): string[] {
  const r = config.redis;
  // Counts and names only: a rediss:// URL may carry a password.
  const nodes = r.mode === 'single' ? [] : r.mode === 'sentinel'
    ? [`${r.sentinel.nodes.length} sentinel node${r.sentinel.nodes.length === 1 ? '' : 's'}`, `primary ${r.sentinel.name}`]
    : [`${r.cluster.nodes.length} cluster seed node${r.cluster.nodes.length === 1 ? '' : 's'}`];
  // Issue [6/6] item 4: null is 0 on one Redis and 1 with Sentinel or Cluster (src/transfer-log/index.ts).
  const replicas = config.transferLog.replicas ?? (r.mode === 'single' ? 0 : 1);
  return [`redis.mode ${r.mode}`, ...nodes, `transferLog.replicas ${replicas}`];
}

const listeners = (c: Config): string => `partner listener ${c.server.host}:${c.server.port}, control plane ${c.admin.host}:${c.admin.port}`;

function certificateSummary(certs: readonly CertificateValidity[]): string {
  if (certs.length === 0) return 'no certificates';
  const first = certs.reduce((a, b) => (b.notAfter < a.notAfter ? b : a));
  return `${certs.length} certificate${certs.length === 1 ? '' : 's'} valid, first to expire ${first.setting} on ${first.notAfter.toISOString().slice(0, 10)}`;
}
