// Signed checkpoints (issue 5): (chain, seq, hash) as a compact JWS under the gateway's ES256 key.
// A checkpoint vouches for every entry of the chain up to seq, so an entry cannot be rewritten,
// and the chain cannot lose its tail, without a signature nobody but the gateway can make.
// `trim` checkpoints record what retention removed, so verification still passes afterwards.
// `batch` checkpoints (issue [3/6] item 1) sign each append batch before it is released, and each
// signs the hash of the chain's previous batch checkpoint (item 2), so the checkpoints of a chain
// form a chain of their own: one removed or replaced by an older one breaks the links.
import type { JsonWebKey } from 'node:crypto';
import type { Redis } from '../deps.ts';
import type { Jwks } from './jwks.ts';
import type { ChainKeys } from './keys.ts';
import { jwsSigner, jwsVerifier } from './statement-signer.ts';

export interface Checkpoint {
  typ: 'tlog-checkpoint';
  kind: 'periodic' | 'trim' | 'batch' | 'end';
  chain: string;
  seq: number;
  hash: string;
  at: string;
  /** trim only: entries with stream ids below this were removed. */
  before?: string;
  /** batch only: the first seq of the batch (seq is its last). */
  first?: number;
  /** batch only: statementHash of the chain's previous batch checkpoint (GENESIS for the first). */
  prev?: string;
  /** batch, trim and end: the anchor sink (anchors file) the gateway wrote it to, if any. */
  sink?: string;
  /** end only (seam.ts): the highest seq released, and the highest sent, before the chain was interrupted. */
  released?: number;
  sent?: number;
}

export type CheckpointSigner = (cp: Omit<Checkpoint, 'typ' | 'at'>) => Promise<string>;

export type SyncCheckpointSigner = (cp: Omit<Checkpoint, 'typ' | 'at'>) => string;

/** Synchronous, for the append path (one signature per batch). */
export function syncCheckpointSigner(signingJwk: JsonWebKey & { kid: string }, now = () => new Date()): SyncCheckpointSigner {
  const sign = jwsSigner(signingJwk);
  return (cp) => sign({ typ: 'tlog-checkpoint', ...cp, at: now().toISOString() } satisfies Checkpoint);
}

export function checkpointSigner(signingJwk: JsonWebKey & { kid: string }, now = () => new Date()): CheckpointSigner {
  const sign = syncCheckpointSigner(signingJwk, now);
  return async (cp) => sign(cp);
}

export async function storeCheckpoint(redis: Redis, keys: ChainKeys, jws: string): Promise<string> {
  return redis.xAdd(keys.checkpoints, '*', { jws });
}

export type CheckpointCheck = { ok: true; checkpoint: Checkpoint } | { ok: false; reason: string };

/**
 * Verifies signatures against the public JWKS only; ES256 only, no key embedded in the token.
 * node:crypto directly (issue [3/6]): there is now one checkpoint per append batch to check.
 */
export async function checkpointVerifier(jwks: Jwks): Promise<(jws: string) => Promise<CheckpointCheck>> {
  const verify = jwsVerifier(jwks.keys);
  return async (jws) => {
    const payload = verify(jws);
    if (payload === null) return { ok: false, reason: 'signature invalid (no published ES256 key verifies it)' };
    const cp = parseCheckpoint(JSON.stringify(payload));
    return cp ? { ok: true, checkpoint: cp } : { ok: false, reason: 'payload malformed' };
  };
}

function parseCheckpoint(text: string): Checkpoint | null {
  try {
    const c = JSON.parse(text) as Checkpoint;
    const batch = c.kind !== 'batch' ||
      (Number.isInteger(c.first) && c.first! >= 1 && c.first! <= c.seq && typeof c.prev === 'string' && /^[0-9a-f]{64}$/.test(c.prev));
    // An end statement may close a chain with nothing left in Redis (seq 0, GENESIS).
    const end = c.kind !== 'end' || (Number.isInteger(c.released) && Number.isInteger(c.sent) && c.released! >= 0 && c.sent! >= c.released!);
    const good = c.typ === 'tlog-checkpoint' && (c.kind === 'periodic' || c.kind === 'trim' || c.kind === 'batch' || c.kind === 'end') && batch && end &&
      typeof c.chain === 'string' && Number.isInteger(c.seq) && c.seq >= (c.kind === 'end' ? 0 : 1) && /^[0-9a-f]{64}$/.test(c.hash);
    return good ? c : null;
  } catch {
    return null;
  }
}
