// Gateway signing key rotation (RULES 29, CONTRACT 7). `keys rotate-signing` writes a fresh ES256
// key and keeps the old key's PUBLIC half in signing-retired.jwks.json, so /.well-known/jwks.json
// still lists it and checkpoints it signed still verify. Its private half is destroyed: nothing
// may sign with a retired key. Running instances keep their key until restarted (restart them all).
//
// When a retired key may go: once no stored checkpoint names its kid. Retention's trim re-signs
// what it keeps with the current key and removes older checkpoints, so after a trim has passed
// every checkpoint the old key signed, `keys prune-signing` drops it. It refuses to drop a key
// while any checkpoint carries an unreadable header, and must not run before every instance has
// been restarted onto the new key (an instance still on the old key would sign with it).
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JsonWebKey } from 'node:crypto';
import type { Redis } from '../deps.ts';
import type { LogKeys } from '../transfer-log/keys.ts';
import { scanStream } from '../transfer-log/scan.ts';
import { listChains } from '../transfer-log/chains.ts';
import { publicJwks } from '../transfer-log/jwks.ts';
import { KEY_FILES, RETIRED_SIGNING_FILE, newSigningJwk, readRetiredSigning } from './files.ts';

type Retired = JsonWebKey & { kid: string; retiredAt?: string };

/** Write atomically (temp file + rename), mode 0600: a crash never leaves half a key. */
function writeKeyFile(dir: string, name: string, data: unknown): void {
  const tmp = join(dir, `.${name}.${process.pid}.tmp`);
  writeFileSync(tmp, JSON.stringify(data, null, 2) + '\n', { mode: 0o600 });
  renameSync(tmp, join(dir, name));
}

export function rotateSigningKey(dir: string, now = new Date()): { retiredKid: string; kid: string } {
  const path = join(dir, KEY_FILES.signing);
  if (!existsSync(path)) throw new Error(`keys.dir: ${path} not found; run \`partner-gateway keys init\``);
  const old = JSON.parse(readFileSync(path, 'utf8')) as JsonWebKey & { kid: string };
  const oldPublic = publicJwks(old).keys[0]!;
  const retired = readRetiredSigning(dir) as Retired[];
  const next = newSigningJwk();
  // The public half is on disk before the old private key is replaced: the JWKS never loses it.
  writeKeyFile(dir, RETIRED_SIGNING_FILE, { keys: [{ ...oldPublic, retiredAt: now.toISOString() }, ...retired.filter((k) => k.kid !== old.kid)] });
  writeKeyFile(dir, KEY_FILES.signing, next);
  return { retiredKid: old.kid, kid: next.kid };
}

/** Every kid named by a stored checkpoint; null if some header cannot be read (then keep all). */
export async function checkpointKids(redis: Redis, keys: LogKeys): Promise<Set<string> | null> {
  const kids = new Set<string>();
  // Checkpoints and chain registry statements (issue [3/6]) both name the key that signed them.
  // Issue [6/6] item 2: each chain keeps its checkpoints in its own stream.
  const streams = [...(await listChains(redis, keys)).map((c) => keys.chain(c).checkpoints), keys.registry];
  for (const stream of streams) for await (const raw of scanStream(redis, stream, { direction: 'asc' })) {
    try {
      const header = JSON.parse(Buffer.from((raw.fields.jws ?? '').split('.')[0] ?? '', 'base64url').toString('utf8')) as { kid?: unknown };
      if (typeof header.kid !== 'string') return null;
      kids.add(header.kid);
    } catch {
      return null;
    }
  }
  return kids;
}

/** Drop retired public keys no stored checkpoint names. */
export function pruneRetiredSigning(dir: string, inUse: Set<string>): { kept: string[]; dropped: string[] } {
  const retired = readRetiredSigning(dir) as Retired[];
  const keep = retired.filter((k) => inUse.has(k.kid));
  const dropped = retired.filter((k) => !inUse.has(k.kid)).map((k) => k.kid);
  if (dropped.length) writeKeyFile(dir, RETIRED_SIGNING_FILE, { keys: keep });
  return { kept: keep.map((k) => k.kid), dropped };
}
