// Bulk cursors: the store's cursor, bound to the partner by an HMAC so a malformed or altered one
// is a clear 400 rather than an upstream error, and one partner's cursor is useless to another.
import { createHmac, timingSafeEqual } from 'node:crypto';

export class CursorCodec {
  constructor(private readonly key: Buffer) {}

  private mac(partnerId: string, inner: string): Buffer {
    return createHmac('sha256', this.key).update(`cursor\u0000${partnerId}\u0000${inner}`).digest().subarray(0, 16);
  }

  encode(partnerId: string, upstreamCursor: string): string {
    return `${Buffer.from(upstreamCursor).toString('base64url')}.${this.mac(partnerId, upstreamCursor).toString('base64url')}`;
  }

  /** The store's cursor, or null when malformed, altered or another partner's. */
  decode(partnerId: string, cursor: string): string | null {
    const m = /^([A-Za-z0-9_-]{1,512})\.([A-Za-z0-9_-]{22})$/.exec(cursor);
    if (!m) return null;
    const inner = Buffer.from(m[1]!, 'base64url').toString();
    const given = Buffer.from(m[2]!, 'base64url');
    const want = this.mac(partnerId, inner);
    return given.length === want.length && timingSafeEqual(given, want) ? inner : null;
  }
}
