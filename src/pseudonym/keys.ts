// RULES 26-27, 29: every (partner, key version) gets its own keys, derived from the one master key
// by HKDF-SHA-256, with a distinct label per use so no key serves two purposes. Derivation is
// cached: HKDF per request would cost more than the pseudonym itself.
import { hkdfSync } from 'node:crypto';

export type KeyUse = 'subject-mac' | 'subject-enc' | 'field';

const SALT = Buffer.from('partner-gateway/pseudonym/v1', 'utf8');
const MAX_CACHED = 4096;

export const isKeyVersion = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 1;

export interface KeyDeriver {
  derive(use: KeyUse, partnerId: string, keyVersion: number): Buffer;
}

export function createKeyDeriver(masterKey: Buffer): KeyDeriver {
  if (!Buffer.isBuffer(masterKey) || masterKey.length < 32) {
    throw new Error('the pseudonym master key must hold at least 256 bits (RULES 27)');
  }
  const master = Buffer.from(masterKey); // a private copy: the caller may zero or reuse its buffer
  const cache = new Map<string, Buffer>();
  return {
    derive(use, partnerId, keyVersion) {
      if (typeof partnerId !== 'string' || partnerId === '') throw new TypeError('partnerId must be a non-empty string');
      if (!isKeyVersion(keyVersion)) throw new TypeError('keyVersion must be a positive integer');
      // JSON of the triple is an unambiguous encoding: no partner id can imitate another's info.
      const info = JSON.stringify([use, partnerId, keyVersion]);
      let key = cache.get(info);
      if (!key) {
        key = Buffer.from(hkdfSync('sha256', master, SALT, Buffer.from(info, 'utf8'), 32));
        if (cache.size >= MAX_CACHED) cache.clear();
        cache.set(info, key);
      }
      return key;
    },
  };
}
