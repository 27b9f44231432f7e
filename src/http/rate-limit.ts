// RULES 44 (OWASP API4): per-partner request rate from the agreement's rateLimit, counted in Redis
// so every instance shares one budget. Over it: 429 rate_limited with Retry-After. A limiter that
// cannot run (Redis down) refuses: fail closed.
import type { RequestHandler } from 'express';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { Problem, redisUnavailable } from './problem.ts';
import { partnerTokenOf } from '../auth/partner-auth.ts';
import type { ActiveAgreements } from '../agreements/active-cache.ts';
import type { Redis } from '../deps.ts';

export function partnerRateLimit(redis: Redis, agreements: ActiveAgreements): RequestHandler {
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
  return async (_req, res, next) => {
    const partnerId = partnerTokenOf(res).partnerId;
    const perMinute = agreements.current(partnerId)?.rateLimit?.requestsPerMinute;
    if (!perMinute) return next(); // no agreement in force: the decision refuses (and logs) it
    try {
      const r = await limiterFor(perMinute).consume(partnerId);
      res.setHeader('RateLimit-Policy', `${perMinute};w=60`);
      res.setHeader('RateLimit-Remaining', String(r.remainingPoints));
      next();
    } catch (e) {
      if (!(e instanceof RateLimiterRes)) return next(redisUnavailable());
      const retry = Math.max(1, Math.ceil(e.msBeforeNext / 1000));
      next(new Problem({ status: 429, code: 'rate_limited', detail: `at most ${perMinute} requests a minute`, headers: { 'Retry-After': String(retry) } }));
    }
  };
}
