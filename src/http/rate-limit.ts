// RULES 44 (OWASP API4): per-partner request rate from the agreement's rateLimit, counted in Redis
// so every instance shares one budget. Over it: 429 rate_limited with Retry-After. A limiter that
// cannot run (Redis down or not answering in time) refuses: fail closed (DESIGN 1).
import type { Request, RequestHandler } from 'express';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { Problem, redisUnavailable } from './problem.ts';
import { partnerTokenOf } from '../auth/partner-auth.ts';
import type { ActiveAgreements } from '../agreements/active-cache.ts';
import type { Redis } from '../deps.ts';
import { deadline } from '../transfer-log/deadline.ts';
import { TurnBatch } from '../redis/turn-batch.ts';

export interface RateLimitOptions {
  /** Deadline for the counter's reply (redis.commandTimeoutMs); config's default when not given. */
  timeoutMs?: number;
  /** RULES 48: each 429 goes to the access-denial record, under the token's (registered) client id. */
  onLimited?: (req: Request, clientId: string, requestId: string) => void;
}

type Verdict = { granted: true; remaining: number } | { granted: false; retryAfterS: number };
interface Ask { perMinute: number; partnerId: string }

/**
 * One counter call answered `n` requests at once: consumedPoints is the count after all n, so
 * the first `perMinute - before` of them fit the budget, in the order they were made; the rest
 * are refused, exactly as n separate consumes would have been.
 */
export function verdicts(perMinute: number, n: number, r: RateLimiterRes): Verdict[] {
  const before = r.consumedPoints - n;
  const granted = Math.min(n, Math.max(0, perMinute - before));
  const retryAfterS = Math.max(1, Math.ceil(r.msBeforeNext / 1000));
  return Array.from({ length: n }, (_, i): Verdict =>
    i < granted ? { granted: true, remaining: perMinute - (before + i + 1) } : { granted: false, retryAfterS });
}

export function partnerRateLimit(redis: Redis, agreements: Pick<ActiveAgreements, 'current'>, opts: RateLimitOptions = {}): RequestHandler {
  const timeoutMs = opts.timeoutMs ?? 2000;
  // One limiter per distinct budget; agreements change rarely, so this map stays tiny.
  const limiters = new Map<number, RateLimiterRedis>();
  const limiterFor = (perMinute: number) => {
    let l = limiters.get(perMinute);
    if (!l) {
      l = new RateLimiterRedis({ storeClient: redis, useRedisPackage: true, keyPrefix: `pg:rl:${perMinute}`, points: perMinute, duration: 60 });
      limiters.set(perMinute, l);
    }
    return l;
  };
  // The requests of one event-loop turn for the same (budget, partner) share one counter call.
  const batch = new TurnBatch<Ask, Verdict>(async (_key, asks) => {
    const { perMinute, partnerId } = asks[0]!;
    let r: RateLimiterRes;
    try {
      // node-redis never times out a sent command; a stopped Redis would hold these requests.
      r = await deadline(limiterFor(perMinute).consume(partnerId, asks.length), timeoutMs);
    } catch (e) {
      if (!(e instanceof RateLimiterRes)) throw e; // no answer: the whole group fails closed
      r = e; // over budget for some or all of the group
    }
    return verdicts(perMinute, asks.length, r);
  });
  return async (req, res, next) => {
    const partnerId = partnerTokenOf(res).partnerId;
    const perMinute = agreements.current(partnerId)?.rateLimit?.requestsPerMinute;
    if (!perMinute) return next(); // no agreement in force: the decision refuses (and logs) it
    let v: Verdict;
    try {
      v = await batch.add(`${perMinute}/${partnerId}`, { perMinute, partnerId });
    } catch {
      return next(redisUnavailable());
    }
    if (!v.granted) {
      opts.onLimited?.(req, partnerTokenOf(res).clientId, String(res.locals.requestId));
      return next(new Problem({ status: 429, code: 'rate_limited', detail: `at most ${perMinute} requests a minute`, headers: { 'Retry-After': String(v.retryAfterS) } }));
    }
    res.setHeader('RateLimit-Policy', `${perMinute};w=60`);
    res.setHeader('RateLimit-Remaining', String(v.remaining));
    next();
  };
}
