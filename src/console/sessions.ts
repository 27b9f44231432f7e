// Console sessions (issue 16): a random 256-bit id in the browser's cookie; Redis keeps the session
// under an HMAC of that id only, so whoever reads Redis (or a dump of it) cannot ride a session.
// Idle and absolute timeouts are checked here against an injectable clock, and Redis expires the
// record as a backstop. Each session carries its own CSRF token.
import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import type { Redis } from '../deps.ts';

export const CONSOLE_ROLES = ['admin', 'auditor'] as const;
export type ConsoleRole = (typeof CONSOLE_ROLES)[number];
export const isConsoleRole = (r: unknown): r is ConsoleRole => r === 'admin' || r === 'auditor';

/** Who is signed in: a token id now (OIDC `sub` and name later), never the token. */
export interface Staff { id: string; name: string; role: ConsoleRole; via: 'token' | 'oidc' }

export interface Session {
  staff: Staff;
  csrf: string;
  createdAt: number;
  lastSeenAt: number;
  /** SHA-256 (hex) of the admin token signed in with: its revocation ends the session. */
  tokenHash: string | null;
}

export interface SessionLimits { idleMs: number; absoluteMs: number }

type SessionRedis = Pick<Redis, 'hSet' | 'hGetAll' | 'pExpire' | 'del'>;

/** 256 bits as base64url: the session id in the cookie. */
const ID_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/** The session key: HKDF of the pseudonym master under an info string used for nothing else. */
export function sessionKey(pseudonymMaster: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', pseudonymMaster, Buffer.alloc(0), 'partner-gateway console session hmac v1', 32));
}

export class ConsoleSessions {
  constructor(
    private readonly redis: SessionRedis,
    private readonly key: Buffer,
    private readonly limits: SessionLimits,
    private readonly now: () => number = Date.now,
  ) {}

  private redisKey(id: string): string {
    return `pg:console:session:${createHmac('sha256', this.key).update(id, 'utf8').digest('hex')}`;
  }

  /** Time Redis may keep the record: until the idle or the absolute end, whichever is first. */
  private ttl(s: Pick<Session, 'createdAt' | 'lastSeenAt'>): number {
    return Math.max(1, Math.min(s.lastSeenAt + this.limits.idleMs, s.createdAt + this.limits.absoluteMs) - this.now());
  }

  async create(staff: Staff, tokenHash: string | null): Promise<{ id: string; session: Session }> {
    const id = randomBytes(32).toString('base64url');
    const at = this.now();
    const session: Session = { staff, csrf: randomBytes(32).toString('base64url'), createdAt: at, lastSeenAt: at, tokenHash };
    const key = this.redisKey(id);
    await this.redis.hSet(key, {
      staffId: staff.id, staffName: staff.name, role: staff.role, via: staff.via, csrf: session.csrf,
      createdAt: String(at), lastSeenAt: String(at), tokenHash: tokenHash ?? '',
    });
    await this.redis.pExpire(key, this.ttl(session));
    return { id, session };
  }

  /**
   * The live session for a cookie value, or null (unknown, malformed, idle or past its absolute
   * end; an ended one is deleted). `touch` records the use and pushes the idle end out.
   */
  async get(id: string | undefined, opts: { touch: boolean } = { touch: true }): Promise<Session | null> {
    if (!id || !ID_SHAPE.test(id)) return null;
    const key = this.redisKey(id);
    const r = await this.redis.hGetAll(key);
    const createdAt = Number(r.createdAt);
    const lastSeenAt = Number(r.lastSeenAt);
    if (!r.csrf || !r.staffId || !isConsoleRole(r.role) || !Number.isFinite(createdAt) || !Number.isFinite(lastSeenAt)) return null;
    const at = this.now();
    if (at - lastSeenAt >= this.limits.idleMs || at - createdAt >= this.limits.absoluteMs) {
      await this.redis.del(key);
      return null;
    }
    const session: Session = {
      staff: { id: r.staffId, name: r.staffName ?? r.staffId, role: r.role, via: r.via === 'oidc' ? 'oidc' : 'token' },
      csrf: r.csrf, createdAt, lastSeenAt, tokenHash: r.tokenHash || null,
    };
    if (opts.touch) {
      session.lastSeenAt = at;
      await this.redis.hSet(key, 'lastSeenAt', String(at));
      await this.redis.pExpire(key, this.ttl(session));
    }
    return session;
  }

  async delete(id: string | undefined): Promise<void> {
    if (id && ID_SHAPE.test(id)) await this.redis.del(this.redisKey(id));
  }
}
