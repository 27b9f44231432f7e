// Key material for keys.dir (RULES 27): random 256-bit secrets and an ES256 signing JWK, mode 0600.
// They come from files (a mounted secret in production), never from Redis, and are never logged.
import { randomBytes, generateKeyPairSync, createPublicKey, createHash, type JsonWebKey } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';

export const KEY_FILES = {
  pseudonymMaster: 'pseudonym-master.key',
  transferLog: 'transfer-log.key',
  signing: 'signing.jwk.json',
} as const;

/** Public halves of retired signing keys (RULES 29; see signing-rotation.ts); optional. */
export const RETIRED_SIGNING_FILE = 'signing-retired.jwks.json';

export interface KeyMaterial {
  pseudonymMaster: Buffer;
  transferLog: Buffer;
  /** Private ES256 JWK with kid, alg and use. */
  signingJwk: JsonWebKey & { kid: string };
  /** Public JWKs of retired signing keys: still published and accepted for old checkpoints. */
  retiredSigningPublicJwks: JsonWebKey[];
}

/** RFC 7638 thumbprint, used as the kid. */
export function jwkThumbprint(jwk: JsonWebKey): string {
  const canon = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return createHash('sha256').update(canon).digest('base64url');
}

export function newSigningJwk(): JsonWebKey & { kid: string } {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = privateKey.export({ format: 'jwk' });
  return { ...jwk, kid: jwkThumbprint(jwk), alg: 'ES256', use: 'sig' };
}

export class KeyFilesExist extends Error {}

export function initKeys(dir: string, opts: { force?: boolean } = {}): string[] {
  const paths = Object.values(KEY_FILES).map((f) => join(dir, f));
  const present = paths.filter((p) => existsSync(p));
  if (present.length && !opts.force) {
    throw new KeyFilesExist(`key files already exist in ${dir} (use --force to replace them): ${present.join(', ')}`);
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const write = (name: string, data: string) => {
    const p = join(dir, name);
    writeFileSync(p, data, { mode: 0o600 });
    chmodSync(p, 0o600); // writeFileSync keeps the old mode of an existing file
  };
  write(KEY_FILES.pseudonymMaster, randomBytes(32).toString('base64') + '\n');
  write(KEY_FILES.transferLog, randomBytes(32).toString('base64') + '\n');
  write(KEY_FILES.signing, JSON.stringify(newSigningJwk(), null, 2) + '\n');
  return paths;
}

function readSecret(dir: string, name: string): Buffer {
  const buf = Buffer.from(readFileSync(join(dir, name), 'utf8').trim(), 'base64');
  if (buf.length < 32) throw new Error(`keys.dir: ${name} must hold at least 256 bits`);
  return buf;
}

export function loadKeys(dir: string): KeyMaterial {
  for (const f of Object.values(KEY_FILES)) {
    if (!existsSync(join(dir, f))) throw new Error(`keys.dir: ${join(dir, f)} not found; run \`partner-gateway keys init\``);
  }
  const signingJwk = JSON.parse(readFileSync(join(dir, KEY_FILES.signing), 'utf8')) as JsonWebKey & { kid: string };
  createPublicKey({ key: signingJwk, format: 'jwk' }); // fails loudly on a malformed key
  return {
    pseudonymMaster: readSecret(dir, KEY_FILES.pseudonymMaster),
    transferLog: readSecret(dir, KEY_FILES.transferLog),
    signingJwk,
    retiredSigningPublicJwks: readRetiredSigning(dir),
  };
}

/** The retired public keys; a private member (`d`) or a malformed key stops start-up. */
export function readRetiredSigning(dir: string): JsonWebKey[] {
  const p = join(dir, RETIRED_SIGNING_FILE);
  if (!existsSync(p)) return [];
  const j = JSON.parse(readFileSync(p, 'utf8')) as { keys?: unknown };
  if (!Array.isArray(j.keys)) throw new Error(`keys.dir: ${p} must hold {"keys": [...]}`);
  return j.keys.map((k: JsonWebKey) => {
    if (k.d !== undefined || typeof k.kid !== 'string') throw new Error(`keys.dir: ${p} must hold public keys with a kid only`);
    createPublicKey({ key: k, format: 'jwk' });
    return k;
  });
}
