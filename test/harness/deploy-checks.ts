// Static checks of deploy/ (issue [6/6] item 6), as functions that return the problems they find, so
// test/deploy-examples.test.ts can run them on deploy/ (no problems) and on broken copies (each found).
import { readFileSync, readdirSync, existsSync, statSync } from 'node:fs';
import { join, relative, dirname, extname, basename, resolve, posix } from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseDocument } from 'yaml';

/** Every file under `root`, skipping directories a .gitignore beside them lists (generated certs/ and keys/). */
export function deployFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    const ignored = existsSync(join(dir, '.gitignore'))
      ? new Set(readFileSync(join(dir, '.gitignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l.endsWith('/')).map((l) => l.slice(0, -1)))
      : new Set<string>();
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) { if (!ignored.has(name)) walk(p); } else out.push(p);
    }
  };
  walk(root);
  return out;
}

export function parseYaml(text: string): unknown {
  // merge: the compose file shares settings through YAML merge keys (<<: *gateway), as compose reads them.
  const doc = parseDocument(text, { merge: true, uniqueKeys: true });
  if (doc.errors.length) throw new Error(doc.errors[0]!.message);
  if (doc.warnings.length) throw new Error(doc.warnings[0]!.message);
  return doc.toJS({ maxAliasCount: 100 });
}

/** Directives of a redis.conf / sentinel.conf, comments dropped: name -> every value line given. */
export function confDirectives(text: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const [name, ...rest] = line.split(/\s+/);
    const key = name!.toLowerCase() === 'sentinel' ? `sentinel ${rest.shift()!.toLowerCase()}` : name!.toLowerCase();
    m.set(key, [...(m.get(key) ?? []), rest.join(' ').replace(/^"(.*)"$/, '$1')]);
  }
  return m;
}

/** CONTRACT 1, RULES 32-34: TLS only; data nodes also persist every write (AOF fsync always). */
export function redisConfProblems(text: string): string[] {
  const d = confDirectives(text);
  const one = (k: string) => d.get(k)?.at(-1);
  const problems: string[] = [];
  const sentinel = d.has('sentinel monitor');
  if (one('port') !== '0') problems.push('port must be 0 (no plain-text port)');
  if (!/^\d+$/.test(one('tls-port') ?? '') || one('tls-port') === '0') problems.push('tls-port must be set');
  for (const k of ['tls-cert-file', 'tls-key-file', 'tls-ca-cert-file']) if (!one(k)) problems.push(`${k} must be set`);
  if (one('tls-auth-clients') === 'no') problems.push('tls-auth-clients must not be no');
  const protocols = one('tls-protocols') ?? '';
  if (!protocols || /TLSv1(\.[01])?(\s|$)/.test(protocols)) problems.push('tls-protocols must be TLSv1.2 and/or TLSv1.3');
  // Replication, and Sentinel's links to the nodes and to each other, go in plain text without it.
  if ((d.has('replicaof') || d.has('slaveof') || sentinel) && one('tls-replication') !== 'yes') {
    problems.push(`${sentinel ? 'sentinel' : 'replicaof'} without tls-replication yes`);
  }
  if (!sentinel) {
    if (one('appendonly') !== 'yes') problems.push('appendonly must be yes');
    if (one('appendfsync') !== 'always') problems.push('appendfsync must be always');
  }
  return problems;
}

export interface Mount { source: string; target: string }

export interface ComposeService {
  image?: string;
  command?: string[] | string;
  environment?: Record<string, string>;
  volumes?: string[];
  healthcheck?: { test?: string[] | string };
}

export function bindMounts(svc: ComposeService): Mount[] {
  return (svc.volumes ?? []).map((v) => v.split(':')).filter(([s]) => s!.startsWith('./') || s!.startsWith('../'))
    .map(([source, target]) => ({ source: source!, target: target! }));
}

/**
 * The compose file's own cross-references: bind-mounted files exist (or are the generated, git-ignored
 * certs/ and keys/), GATEWAY_CONFIG names a mounted file, gateways' health checks ask /readyz.
 */
export function composeProblems(composeFile: string, generated: ReadonlySet<string>): string[] {
  const dir = dirname(composeFile);
  const doc = parseYaml(readFileSync(composeFile, 'utf8')) as { services?: Record<string, ComposeService> };
  const problems: string[] = [];
  for (const [name, svc] of Object.entries(doc.services ?? {})) {
    for (const m of bindMounts(svc)) {
      const rel = posix.normalize(m.source);
      if (generated.has(rel)) continue;
      if (!existsSync(resolve(dir, m.source))) problems.push(`${name}: mounts ${m.source}, which does not exist`);
    }
    const cfg = svc.environment?.GATEWAY_CONFIG;
    if (svc.image?.startsWith('partner-gateway')) {
      const cmd = [svc.command ?? []].flat();
      if (!cfg) { if (cmd[0] !== undefined) problems.push(`${name}: runs ${cmd[0]} without GATEWAY_CONFIG`); continue; }
      if (!bindMounts(svc).some((m) => m.target === cfg && existsSync(resolve(dir, m.source)))) problems.push(`${name}: GATEWAY_CONFIG ${cfg} is not a mounted file that exists`);
      const health = [svc.healthcheck?.test ?? []].flat().join(' ');
      if (cmd[0] !== 'core-store' && !health.includes('/readyz')) problems.push(`${name}: the health check must ask /readyz`);
    }
  }
  return problems;
}

/** Each gateway-image service's configuration file on the host and how to check it. */
export function serviceConfigs(composeFile: string): Array<{ service: string; file: string; as: 'serve' | 'core-store' }> {
  const dir = dirname(composeFile);
  const doc = parseYaml(readFileSync(composeFile, 'utf8')) as { services: Record<string, ComposeService> };
  return Object.entries(doc.services).flatMap(([service, svc]) => {
    const cfg = svc.environment?.GATEWAY_CONFIG;
    const mount = bindMounts(svc).find((m) => m.target === cfg);
    if (!cfg || !mount) return [];
    return [{ service, file: resolve(dir, mount.source), as: [svc.command ?? []].flat()[0] === 'core-store' ? 'core-store' as const : 'serve' as const }];
  });
}

/** Problems of one file of deploy/, by its kind; an unknown kind is a problem (add a check for it). */
export function fileProblems(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  const problems: string[] = [];
  // Private keys are made on the machine (partner-gateway certs, keys init), never committed.
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text) || /"d"\s*:\s*"/.test(text)) problems.push('holds a private key');
  const ext = extname(path) || basename(path);
  try {
    switch (ext) {
      case '.yaml': case '.yml': parseYaml(text); break;
      case '.json': JSON.parse(text); break;
      case '.conf': problems.push(...redisConfProblems(text)); break;
      case '.sh': {
        const r = spawnSync('sh', ['-n', path], { encoding: 'utf8' });
        if (r.status !== 0) problems.push(`sh -n: ${r.stderr.trim()}`);
        break;
      }
      case '.md': problems.push(...markdownLinkProblems(path, text)); break;
      case '.gitignore': break;
      default: problems.push('no check for this kind of file');
    }
  } catch (e) {
    problems.push(`does not parse: ${(e as Error).message.split('\n')[0]}`);
  }
  return problems;
}

/** Relative links of a README point at files that exist. */
function markdownLinkProblems(path: string, text: string): string[] {
  return [...text.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)].map((m) => m[1]!)
    .filter((l) => !/^[a-z]+:/.test(l) && !existsSync(resolve(dirname(path), l)))
    .map((l) => `links to ${l}, which does not exist`);
}

export const rel = (root: string, p: string) => relative(root, p);
