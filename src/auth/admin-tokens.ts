// Admin, auditor and core_store bearer tokens (CONTRACT 5). A token is shown once, at minting; Redis
// holds only its SHA-256, and the comparison is constant-time (DESIGN: secrets). The bootstrap
// token from BOOTSTRAP_ADMIN_TOKEN is held in memory as a hash only.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { Redis } from '../deps.ts';
import { parseBody } from '../http/field-errors.ts';
import { auditedEval } from './admin-audit.ts';
import { ROLES, isRole, type Actor, type Role } from './roles.ts';
import { CONTROL_PLANE as CP } from '../redis/keys.ts';

export const BOOTSTRAP_TOKEN_ID = 'tok_bootstrap';
export const MAX_TTL_SECONDS = 365 * 24 * 3600;
const TOKEN_SHAPE = /^pga_[A-Za-z0-9_-]{43}$/;

export const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();
const tokenKey = (hashHex: string) => `${CP}admin:token:${hashHex}`;
const idKey = (id: string) => `${CP}admin:token-id:${id}`;
const revokedBootstrapKey = (hashHex: string) => `${CP}admin:token-revoked:${hashHex}`;

export const mintSchema = z.strictObject({
  role: z.enum(ROLES, { error: `must be one of ${ROLES.join(', ')}` }),
  label: z.string().trim().min(1).max(100).optional(),
  // Every token ends: a year at most, a year when not asked for less.
  ttlSeconds: z.number().int().min(60, 'must be at least 60').max(MAX_TTL_SECONDS, `must be at most ${MAX_TTL_SECONDS}`).optional(),
});

export interface MintedToken { id: string; role: Role; label: string | null; expiresAt: string; token: string }

const MINT = `
redis.call('HSET', KEYS[2], 'id', ARGV[5], 'role', ARGV[6], 'label', ARGV[7], 'expiresAt', ARGV[8], 'hash', ARGV[10])
redis.call('PEXPIREAT', KEYS[2], ARGV[9])
redis.call('SET', KEYS[3], ARGV[10], 'PXAT', ARGV[9])
audit(ARGV[5], '', ARGV[11])
return {1}`;

// The record's key is derived from the id's value (ARGV[6]: its prefix); it carries the same
// control-plane hash tag as KEYS, so the script stays in one cluster slot (issue 18).
const REVOKE = `
local hash = redis.call('GET', KEYS[2])
if not hash then return {0} end
local role = redis.call('HGET', ARGV[6] .. hash, 'role') or ''
redis.call('DEL', ARGV[6] .. hash, KEYS[2])
audit(ARGV[5], '{"id":"' .. ARGV[5] .. '","role":"' .. role .. '"}', '{"revoked":true}')
return {1}`;

const REVOKE_BOOTSTRAP = `
redis.call('SET', KEYS[2], '1')
audit(ARGV[5], '{"id":"' .. ARGV[5] .. '","role":"admin"}', '{"revoked":true}')
return {1}`;

export class AdminTokens {
  private readonly bootstrapHash: Buffer | undefined;

  constructor(private readonly redis: Redis, bootstrapHash?: Buffer) {
    this.bootstrapHash = bootstrapHash;
  }

  async mint(actor: Actor, raw: unknown, now = new Date()): Promise<MintedToken> {
    const { role, label = null, ttlSeconds = MAX_TTL_SECONDS } = parseBody(mintSchema, raw);
    const token = `pga_${randomBytes(32).toString('base64url')}`; // 256 bits
    const id = `tok_${randomBytes(9).toString('base64url')}`;
    const hashHex = sha256(token).toString('hex');
    const expires = new Date(now.getTime() + ttlSeconds * 1000);
    const summary = JSON.stringify({ id, role, label, expiresAt: expires.toISOString() });
    await auditedEval(this.redis, MINT, actor, 'token.mint', [tokenKey(hashHex), idKey(id)],
      [id, role, label ?? '', expires.toISOString(), String(expires.getTime()), hashHex, summary], now);
    return { id, role, label, expiresAt: expires.toISOString(), token };
  }

  /** false when no such token (already revoked or expired). */
  async revoke(actor: Actor, id: string): Promise<boolean> {
    if (!/^tok_[A-Za-z0-9_-]{1,40}$/.test(id)) return false;
    if (id === BOOTSTRAP_TOKEN_ID) {
      if (!this.bootstrapHash) return false;
      await auditedEval(this.redis, REVOKE_BOOTSTRAP, actor, 'token.revoke', [revokedBootstrapKey(this.bootstrapHash.toString('hex'))], [id]);
      return true;
    }
    const [n] = await auditedEval(this.redis, REVOKE, actor, 'token.revoke', [idKey(id)], [id, tokenKey('')]);
    return n === 1;
  }

  private isBootstrap(hash: Buffer): boolean {
    return this.bootstrapHash !== undefined && hash.length === this.bootstrapHash.length && timingSafeEqual(hash, this.bootstrapHash);
  }

  /** The actor for a presented token, or null. Redis errors propagate: the caller fails closed. */
  async verify(token: string): Promise<Actor | null> {
    if (token.length > 200) return null;
    const hash = sha256(token);
    // e.g. a partner access token: never an admin token (the bootstrap token may have any shape).
    if (!this.isBootstrap(hash) && !TOKEN_SHAPE.test(token)) return null;
    return this.verifyHash(hash);
  }

  /**
   * The actor for a token known only by its SHA-256 (a console session keeps that, never the
   * token), or null once the token is revoked or expired: a revocation ends its sessions too.
   */
  async verifyHash(hash: Buffer): Promise<Actor | null> {
    if (this.isBootstrap(hash)) {
      const revoked = await this.redis.exists(revokedBootstrapKey(hash.toString('hex')));
      return revoked ? null : { tokenId: BOOTSTRAP_TOKEN_ID, role: 'admin' };
    }
    const rec = await this.redis.hGetAll(tokenKey(hash.toString('hex')));
    const stored = Buffer.from(rec.hash ?? '', 'hex');
    // Found by its hash already; the constant-time comparison keeps the check honest if the lookup changes.
    if (stored.length !== hash.length || !timingSafeEqual(stored, hash)) return null;
    if (!isRole(rec.role) || !rec.id || Date.parse(rec.expiresAt ?? '') <= Date.now()) return null;
    return { tokenId: rec.id, role: rec.role };
  }
}
