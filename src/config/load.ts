// Load config/default.json, deep-merge GATEWAY_CONFIG and env overrides, validate, freeze.
import { readFileSync, existsSync } from 'node:fs';
import { isAbsolute, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configSchema, type Config } from './schema.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** One line naming the key and what is wrong; start-up prints it and exits 1. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

// Environment overrides (listed in README.md). Numbers are parsed; an empty value is ignored.
export const ENV_OVERRIDES: Record<string, string> = {
  GATEWAY_HOST: 'server.host',
  GATEWAY_PORT: 'server.port',
  GATEWAY_PUBLIC_URL: 'server.publicUrl',
  GATEWAY_ADMIN_HOST: 'admin.host',
  GATEWAY_ADMIN_PORT: 'admin.port',
  UPSTREAM_URL: 'upstream.url',
  REDIS_URL: 'redis.url',
  REDIS_REGION: 'redis.region',
  LOG_SINK_REGION: 'logSink.region',
  KEYS_DIR: 'keys.dir',
  LOG_LEVEL: 'log.level',
  CORE_STORE_PORT: 'coreStore.port',
  CORE_STORE_DATA: 'coreStore.data',
  CORE_STORE_USERS: 'coreStore.users',
  CONSOLE_OIDC_CLIENT_SECRET: 'console.oidc.clientSecret',
};
const NUMERIC = new Set(['server.port', 'admin.port', 'coreStore.port', 'coreStore.users']);

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
const isObject = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function deepMerge(base: Json, over: Json): Json {
  if (!isObject(base) || !isObject(over)) return over;
  const out: Record<string, Json> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in base ? deepMerge(base[k] as Json, v) : v;
  return out;
}

function stripDocs(v: Json): Json {
  if (Array.isArray(v)) return v.map(stripDocs);
  if (!isObject(v)) return v;
  return Object.fromEntries(Object.entries(v).filter(([k]) => !k.startsWith('$')).map(([k, x]) => [k, stripDocs(x)]));
}

function setPath(obj: Record<string, Json>, path: string, value: Json): void {
  const keys = path.split('.');
  let cur = obj;
  for (const k of keys.slice(0, -1)) cur = (cur[k] ??= {}) as Record<string, Json>;
  cur[keys.at(-1)!] = value;
}

function readJson(path: string, what: string): Json {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Json;
  } catch (e) {
    throw new ConfigError(`${what}: cannot read ${path} (${(e as Error).message.split('\n')[0]})`);
  }
}

// Every file setting, so a missing certificate stops start-up naming its key.
const FILE_KEYS = [
  'server.tls.cert', 'server.tls.key', 'server.tls.ca',
  'admin.tls.cert', 'admin.tls.key', 'admin.tls.ca',
  'upstream.tls.ca', 'upstream.tls.cert', 'upstream.tls.key',
  'redis.tls.ca', 'redis.tls.cert', 'redis.tls.key',
] as const;

// Every setting that names a file or directory. Issue [6/6] item 6: a relative one written in the
// GATEWAY_CONFIG file is resolved against that file's directory, so a configuration and the
// certificates beside it move together (deploy/compose, a mounted /etc/partner-gateway) and
// `config check FILE` sees what `serve` will open; those of config/default.json and of the
// environment stay relative to the repository root.
const PATH_KEYS = [
  ...FILE_KEYS, 'coreStore.tls.cert', 'coreStore.tls.key', 'coreStore.tls.ca', 'coreStore.data',
  'keys.dir', 'transferLog.anchors.file', 'notices.webhookCa', 'console.oidc.ca', 'console.oidc.privateKeyJwk',
] as const;

function relativeTo(dir: string, file: Json): Json {
  for (const key of PATH_KEYS) {
    const parts = key.split('.');
    const parent = get(file, parts.slice(0, -1).join('.'));
    const last = parts.at(-1)!;
    if (!isObject(parent) || typeof parent[last] !== 'string') continue;
    const p = parent[last] as string;
    if (p !== '' && !isAbsolute(p)) parent[last] = resolve(dir, p);
  }
  return file;
}

function get(obj: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), obj);
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** Extra settings merged last (tests, the demo). */
  overrides?: Json;
  /** Which file settings must exist now; the core store checks only its own. */
  requireFiles?: readonly string[];
}

export function loadConfig(opts: LoadOptions = {}): Config {
  const env = opts.env ?? {};
  let raw = readJson(resolve(REPO_ROOT, 'config/default.json'), 'config/default.json');
  if (env.GATEWAY_CONFIG) {
    const file = resolve(env.GATEWAY_CONFIG);
    raw = deepMerge(raw, relativeTo(dirname(file), readJson(file, 'GATEWAY_CONFIG')));
  }
  raw = stripDocs(raw) as Record<string, Json>;
  for (const [name, path] of Object.entries(ENV_OVERRIDES)) {
    const v = env[name];
    if (v === undefined || v === '') continue;
    setPath(raw as Record<string, Json>, path, NUMERIC.has(path) ? Number(v) : v);
  }
  if (opts.overrides) raw = deepMerge(raw, opts.overrides);

  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    // Array positions as [n]: redis.cluster.nodes[1] must start with rediss://
    const key = issue.path.map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i ? '.' : ''}${String(k)}`)).join('') || '(root)';
    const got = get(raw, issue.path.join('.'));
    const shown = typeof got === 'string' || typeof got === 'number' ? ` (got ${got})` : '';
    throw new ConfigError(`${key} ${issue.message}${shown}`);
  }
  const cfg = parsed.data;
  assertLocalised(cfg);
  assertControlPlane(cfg);
  resolvePaths(cfg);
  for (const key of opts.requireFiles ?? FILE_KEYS) {
    const p = get(cfg, key);
    if (typeof p === 'string' && !existsSync(p)) {
      throw new ConfigError(`${key}: file not found (${p}); run \`partner-gateway certs\` or fix the path`);
    }
  }
  return deepFreeze(cfg);
}

// RULES 18: the gateway's store and log sink stay in the home jurisdiction; start-up refuses otherwise.
function assertLocalised(cfg: Config): void {
  const home = cfg.jurisdiction.home;
  for (const [key, region] of [['redis.region', cfg.redis.region], ['logSink.region', cfg.logSink.region]] as const) {
    if (region !== home) throw new ConfigError(`${key} must be the home jurisdiction ${home} (got ${region}) — RULES 18: personal data stays in ${home}`);
  }
  // RULES 16: home is domestic by definition; listing it as "adequate" is a mistake worth stopping on.
  if (cfg.jurisdiction.adequate.includes(home)) throw new ConfigError(`jurisdiction.adequate must not list the home jurisdiction ${home}`);
}

// RULES 43: the control plane is a listener of its own; staff mTLS needs the CA it checks against.
function assertControlPlane(cfg: Config): void {
  const { admin, server } = cfg;
  if (admin.tls.requireClientCert && !admin.tls.ca) throw new ConfigError('admin.tls.ca is required when admin.tls.requireClientCert is true');
  if (!admin.tls.cert !== !admin.tls.key) throw new ConfigError('admin.tls.cert and admin.tls.key must both be set, or both null (the partner listener\'s certificate)');
  if (!admin.tls.cert) Object.assign(admin.tls, { cert: server.tls.cert, key: server.tls.key });
  if (admin.port !== 0 && admin.port === server.port && admin.host === server.host) throw new ConfigError(`admin.port must differ from server.port (both ${admin.port}): the control plane has its own listener`);
}

function resolvePaths(cfg: Config): void {
  const abs = (p: string | null): string | null => (p === null || isAbsolute(p) ? p : resolve(REPO_ROOT, p));
  for (const t of [cfg.server.tls, cfg.admin.tls, cfg.coreStore.tls, cfg.upstream.tls, cfg.redis.tls] as Array<Record<string, unknown>>) {
    for (const k of ['ca', 'cert', 'key']) if (typeof t[k] === 'string') t[k] = abs(t[k] as string);
  }
  cfg.keys.dir = abs(cfg.keys.dir)!;
  cfg.coreStore.data = abs(cfg.coreStore.data);
  cfg.transferLog.anchors.file = abs(cfg.transferLog.anchors.file)!;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}
