// Every cursor the gateway hands out (DESIGN 9, RULES 42): authenticated encryption, so a cursor
// tells its holder nothing about the store, its order or its ids, and only the caller it was issued
// to, for the list (kind) and binding (partner and purpose, or an auditor's filter) it was issued
// for, gets it back open. Pure: node:crypto only; built once in app.ts from the pseudonym master.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

export const CURSOR_KINDS = ['bulk', 'notifications', 'transfers', 'audit', 'jurisdiction', 'access_denials', 'incidents'] as const;
export type CursorKind = (typeof CURSOR_KINDS)[number];

export type Opened = { ok: true; inner: string } | { ok: false; reason: string };

export interface CursorCodecOptions {
  /** CONTRACT 11: `limits.cursorTtlSeconds`; an older cursor is refused. */
  ttlSeconds: number;
  /** Epoch ms; injected so tests can issue a cursor in the past. */
  now?: () => number;
}

const VERSION = 1;
const NONCE = 12; // AES-GCM's 96-bit nonce, random per cursor (2^32 cursors per key stay far below the birthday bound)
const TAG = 16;
const HEADER = 8 + 2; // issued-at (ms, uint64) + inner length (uint16)
// Plaintext is padded to a multiple of this, so the cursor's length does not give away the length
// of the store's cursor (with a counter inside, its number of digits: the position).
const BLOCK = 32;
const MAX_INNER = 2048;
const B64URL = /^[A-Za-z0-9_-]+$/;

/** The cursor key: HKDF of the pseudonym master under an info string used for nothing else. */
export function cursorKey(pseudonymMaster: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', pseudonymMaster, Buffer.alloc(0), 'partner-gateway cursor aes-256-gcm v1', 32));
}

export class CursorCodec {
  private readonly now: () => number;
  private readonly ttlMs: number;

  constructor(private readonly key: Buffer, opts: CursorCodecOptions) {
    if (key.length !== 32) throw new Error('cursor key must be 32 bytes');
    this.ttlMs = opts.ttlSeconds * 1000;
    this.now = opts.now ?? Date.now;
  }

  /** Encrypt `inner` (a store cursor or stream id) for this kind and binding. */
  seal(kind: CursorKind, binding: readonly string[], inner: string): string {
    const body = Buffer.from(inner, 'utf8');
    if (body.length > MAX_INNER) throw new Error('cursor too long to seal');
    const plain = Buffer.alloc(Math.ceil((HEADER + body.length) / BLOCK) * BLOCK);
    plain.writeBigUInt64BE(BigInt(Math.floor(this.now())), 0);
    plain.writeUInt16BE(body.length, 8);
    body.copy(plain, HEADER);
    const nonce = randomBytes(NONCE);
    const c = createCipheriv('aes-256-gcm', this.key, nonce, { authTagLength: TAG });
    c.setAAD(aad(kind, binding));
    const out = Buffer.concat([Buffer.of(VERSION), nonce, c.update(plain), c.final(), c.getAuthTag()]);
    return out.toString('base64url');
  }

  /** The inner cursor, or why the given one is refused (the reason is safe to show the caller). */
  open(kind: CursorKind, binding: readonly string[], cursor: string): Opened {
    const malformed: Opened = { ok: false, reason: 'malformed: pass back a nextCursor exactly as given' };
    if (cursor.length > 4096 || !B64URL.test(cursor)) return malformed;
    const raw = Buffer.from(cursor, 'base64url');
    if (raw.toString('base64url') !== cursor) return malformed;
    const ctLen = raw.length - 1 - NONCE - TAG;
    if (raw[0] !== VERSION || ctLen < BLOCK || ctLen % BLOCK !== 0) return malformed;
    let plain: Buffer;
    try {
      const d = createDecipheriv('aes-256-gcm', this.key, raw.subarray(1, 1 + NONCE), { authTagLength: TAG });
      d.setAAD(aad(kind, binding));
      d.setAuthTag(raw.subarray(raw.length - TAG));
      plain = Buffer.concat([d.update(raw.subarray(1 + NONCE, raw.length - TAG)), d.final()]);
    } catch {
      // One answer for altered, foreign (another partner, purpose, filter or list) and forged:
      // GCM cannot tell them apart, and the caller learns nothing it could use.
      return { ok: false, reason: 'not valid for this request: altered, or issued for another partner, purpose, filter or list' };
    }
    const issuedAt = Number(plain.readBigUInt64BE(0));
    const len = plain.readUInt16BE(8);
    if (HEADER + len > plain.length) return malformed; // only with our key: a bug, still refused
    const age = this.now() - issuedAt;
    if (age > this.ttlMs) return { ok: false, reason: 'expired: start again without a cursor' };
    return { ok: true, inner: plain.subarray(HEADER, HEADER + len).toString('utf8') };
  }
}

// JSON of an array: unambiguous however the binding's strings look (no separator to smuggle in).
function aad(kind: CursorKind, binding: readonly string[]): Buffer {
  return Buffer.from(JSON.stringify(['partner-gateway cursor', VERSION, kind, ...binding]), 'utf8');
}
