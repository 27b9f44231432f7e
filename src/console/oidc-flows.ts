// The sign-ins in progress (RULES 43: SSO with PKCE): state, nonce and the PKCE verifier stay on the
// server, in Redis for a few minutes, under the SHA-256 of a random id that only the browser's
// `__Host-` cookie holds. A flow is taken out once (GETDEL), so a callback cannot be replayed.
import { createHash, randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';
import type { Redis } from '../deps.ts';

export const FLOW_COOKIE = '__Host-pg-console-oidc';
export const FLOW_TTL_SECONDS = 600;
// Lax, not Strict: the callback is a top-level GET navigation from the IdP's site, which a Strict
// cookie would not reach. It carries no authority of its own: only the pending flow's id.
const FLAGS = 'Path=/; Secure; HttpOnly; SameSite=Lax';
const ID_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export interface Flow { state: string; nonce: string; verifier: string }

type FlowRedis = Pick<Redis, 'set' | 'getDel'>;

const key = (id: string) => `pg:console:oidc:${createHash('sha256').update(id, 'utf8').digest('hex')}`;

export class OidcFlows {
  constructor(private readonly redis: FlowRedis) {}

  /** Keep a new flow; the id goes in the cookie. */
  async begin(flow: Flow): Promise<string> {
    const id = randomBytes(32).toString('base64url');
    await this.redis.set(key(id), JSON.stringify(flow), { expiration: { type: 'EX', value: FLOW_TTL_SECONDS } });
    return id;
  }

  /** The flow of this cookie value, removed as it is read; null if unknown, expired or used. */
  async take(id: string | undefined): Promise<Flow | null> {
    if (!id || !ID_SHAPE.test(id)) return null;
    const raw = await this.redis.getDel(key(id));
    if (!raw) return null;
    const f = JSON.parse(raw) as Partial<Flow>;
    return typeof f.state === 'string' && typeof f.nonce === 'string' && typeof f.verifier === 'string' ? (f as Flow) : null;
  }
}

export function flowIdOf(req: Request): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === FLOW_COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export const setFlowCookie = (res: Response, id: string) => res.append('Set-Cookie', `${FLOW_COOKIE}=${id}; ${FLAGS}; Max-Age=${FLOW_TTL_SECONDS}`);
export const clearFlowCookie = (res: Response) => res.append('Set-Cookie', `${FLOW_COOKIE}=; ${FLAGS}; Max-Age=0`);
