// CONTRACT 4, RULES 25-29: the partner's name for a user. Deterministic per (user, partner, key
// version), unlinkable across partners (separate derived keys), and reversible only by the gateway.
// Deterministic AEAD in the SIV style: iv = HMAC(macKey, userId)[0..16], ct = AES-256-CTR(encKey,
// iv, userId), token = "v<keyVersion>." + base64url(iv || ct). Decoding recomputes the SIV, so a
// tampered, foreign or malformed token cannot decode (it answers like an unknown user).
import { createCipheriv, createDecipheriv, createHmac, timingSafeEqual } from 'node:crypto';
import { createKeyDeriver, isKeyVersion } from './keys.ts';

export interface Pseudonymizer {
  encode(userId: string, partnerId: string, keyVersion: number): string;
  /** null for anything that is not this partner's token under an accepted key version. */
  decode(token: string, partnerId: string, acceptVersions: readonly number[]): { userId: string; keyVersion: number } | null;
  /** The per-partner key of the `pseudonymise` treatment (RULES 28), separate from subject keys. */
  fieldKey(partnerId: string, keyVersion: number): Buffer;
}

const IV_BYTES = 16;
const TOKEN = /^v([1-9]\d{0,8})\.([A-Za-z0-9_-]+)$/;
// User ids are short; a bound stops a huge path segment from costing a large decrypt.
const MAX_TOKEN_CHARS = 1024;

export function createPseudonymizer(masterKey: Buffer): Pseudonymizer {
  const keys = createKeyDeriver(masterKey);
  const siv = (partnerId: string, v: number, userId: Buffer) =>
    createHmac('sha256', keys.derive('subject-mac', partnerId, v)).update(userId).digest().subarray(0, IV_BYTES);
  const ctr = (partnerId: string, v: number, iv: Buffer, mode: 'enc' | 'dec') => {
    const key = keys.derive('subject-enc', partnerId, v);
    return mode === 'enc' ? createCipheriv('aes-256-ctr', key, iv) : createDecipheriv('aes-256-ctr', key, iv);
  };

  return {
    encode(userId, partnerId, keyVersion) {
      if (typeof userId !== 'string' || userId === '') throw new TypeError('userId must be a non-empty string');
      const plain = Buffer.from(userId, 'utf8');
      // A lone surrogate would not survive UTF-8: decode would return another id.
      if (plain.toString('utf8') !== userId) throw new TypeError('userId must be valid Unicode');
      const iv = siv(partnerId, keyVersion, plain);
      const c = ctr(partnerId, keyVersion, iv, 'enc');
      const body = Buffer.concat([iv, c.update(plain), c.final()]);
      return `v${keyVersion}.${body.toString('base64url')}`;
    },

    decode(token, partnerId, acceptVersions) {
      if (typeof token !== 'string' || token.length > MAX_TOKEN_CHARS || typeof partnerId !== 'string' || partnerId === '') return null;
      const m = TOKEN.exec(token);
      if (!m) return null;
      const keyVersion = Number(m[1]);
      if (!isKeyVersion(keyVersion) || !Array.isArray(acceptVersions) || !acceptVersions.includes(keyVersion)) return null;
      const body = Buffer.from(m[2] as string, 'base64url');
      // Only the canonical encoding: otherwise a changed padding bit in the last character would
      // still decode, and "flip any character -> not found" would not hold.
      if (body.toString('base64url') !== m[2] || body.length <= IV_BYTES) return null;
      const iv = body.subarray(0, IV_BYTES);
      const d = ctr(partnerId, keyVersion, iv, 'dec');
      const plain = Buffer.concat([d.update(body.subarray(IV_BYTES)), d.final()]);
      if (!timingSafeEqual(siv(partnerId, keyVersion, plain), iv)) return null;
      return { userId: plain.toString('utf8'), keyVersion };
    },

    fieldKey(partnerId, keyVersion) {
      return keys.derive('field', partnerId, keyVersion);
    },
  };
}
