// Signed checkpoints (issue 5): (chain, seq, hash) as a compact JWS under the gateway's ES256 key.
// A checkpoint vouches for every entry of the chain up to seq, so an entry cannot be rewritten,
// and the chain cannot lose its tail, without a signature nobody but the gateway can make.
// `trim` checkpoints record what retention removed, so verification still passes afterwards.
import jose from 'node-jose';
import type { JsonWebKey } from 'node:crypto';
import type { Redis } from '../deps.ts';
import type { Jwks } from './jwks.ts';
import type { LogKeys } from './keys.ts';

export interface Checkpoint {
  typ: 'tlog-checkpoint';
  kind: 'periodic' | 'trim';
  chain: string;
  seq: number;
  hash: string;
  at: string;
  /** trim only: entries with stream ids below this were removed. */
  before?: string;
}

export type CheckpointSigner = (cp: Omit<Checkpoint, 'typ' | 'at'>) => Promise<string>;

export function checkpointSigner(signingJwk: JsonWebKey & { kid: string }, now = () => new Date()): CheckpointSigner {
  const key = jose.JWK.asKey(signingJwk as object, 'json');
  return async (cp) => {
    const payload: Checkpoint = { typ: 'tlog-checkpoint', ...cp, at: now().toISOString() };
    const signer = jose.JWS.createSign({ format: 'compact', fields: { alg: 'ES256', kid: signingJwk.kid } }, await key);
    // node-jose's types describe the flattened result; compact format yields the string.
    return (await signer.update(JSON.stringify(payload), 'utf8').final()) as unknown as string;
  };
}

export async function storeCheckpoint(redis: Redis, keys: LogKeys, jws: string): Promise<string> {
  return redis.xAdd(keys.checkpoints, '*', { jws });
}

export type CheckpointCheck = { ok: true; checkpoint: Checkpoint } | { ok: false; reason: string };

/** Verifies signatures against the public JWKS only; ES256 only, no key embedded in the token. */
export async function checkpointVerifier(jwks: Jwks): Promise<(jws: string) => Promise<CheckpointCheck>> {
  const store = await jose.JWK.asKeyStore(jwks);
  const verifier = jose.JWS.createVerify(store, { algorithms: ['ES256'], allowEmbeddedKey: false });
  return async (jws) => {
    let payload: Buffer;
    try {
      payload = (await verifier.verify(jws)).payload;
    } catch (e) {
      return { ok: false, reason: `signature invalid (${(e as Error).message})` };
    }
    const cp = parseCheckpoint(payload.toString('utf8'));
    return cp ? { ok: true, checkpoint: cp } : { ok: false, reason: 'payload malformed' };
  };
}

function parseCheckpoint(text: string): Checkpoint | null {
  try {
    const c = JSON.parse(text) as Checkpoint;
    const good = c.typ === 'tlog-checkpoint' && (c.kind === 'periodic' || c.kind === 'trim') &&
      typeof c.chain === 'string' && Number.isInteger(c.seq) && c.seq >= 1 && /^[0-9a-f]{64}$/.test(c.hash);
    return good ? c : null;
  } catch {
    return null;
  }
}
