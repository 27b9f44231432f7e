// RULES 44 (OWASP API4): per-partner request rate from the agreement's rateLimit, counted in Redis
// so every instance shares one budget. Over it: 429 rate_limited with Retry-After. A limiter that
// cannot run (Redis down or not answering in time) refuses: fail closed (DESIGN 1).
//
// Issue 17 item 3: with `leasePercent` > 0, a counter call also takes a lease of that share of the
// budget from Redis, and this process (instance or worker) grants the lease's points from memory
// until it is spent or the window ends. The lease is taken from the shared counter, so all
// processes together never grant more than the budget (RULES 44 holds exactly); the error is one
// way: points leased but unused by one process are unavailable to the others, so a partner may be
// refused after (budget - processes x lease) requests in the worst case. Budgets under
// 100 / leasePercent requests a minute lease nothing: every request is counted in Redis.
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
  /** limits.rateLimitLeasePercent: share of the budget leased per counter call (0: none). */
  leasePercent?: number;
}

/** Points leased beyond a group's own requests: `leasePercent` % of the budget, rounded down. */
export const leaseSize = (perMinute: number, leasePercent: number) => Math.floor(perMinute * leasePercent / 100);

/**
 * Unspent points this process took from the shared counter, valid until the counter's window ends;
 * or (points 0, `refusedFor`) the counter said the budget is spent: it only grows until the window
 * ends, so every request until then is refused here exactly as Redis would refuse it.
 */
interface Lease { points: number; until: number; perMinute: number; used: number; refused?: boolean }

type Verdict = { granted: true; remaining: number } | { granted: false; retryAfterS: number };
interface Ask { perMinute: number; partnerId: string }

/**
 * One counter call answered `n` requests at once: consumedPoints is the count after all n, so
 * the first `perMinute - before` of them fit the budget, in the order they were made; the rest
 * are refused, exactly as n separate consumes would have been.
 */
export function verdicts(perMinute: number, n: number, r: RateLimiterRes, lease = 0): Verdict[] {
  const before = r.consumedPoints - n - lease;
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
  const leasePercent = opts.leasePercent ?? 0;
  const leases = new Map<string, Lease>();
  // The requests of one event-loop turn for the same (budget, partner) share one counter call.
  const batch = new TurnBatch<Ask, Verdict>(async (key, asks) => {
    const { perMinute, partnerId } = asks[0]!;
    const extra = leaseSize(perMinute, leasePercent);
    let r: RateLimiterRes;
    try {
      // node-redis never times out a sent command; a stopped Redis would hold these requests.
      r = await deadline(limiterFor(perMinute).consume(partnerId, asks.length + extra), timeoutMs);
    } catch (e) {
      if (!(e instanceof RateLimiterRes)) throw e; // no answer: the whole group fails closed
      r = e; // over budget for some or all of the group (and the lease)
    }
    const out = verdicts(perMinute, asks.length, r, extra);
    if (!out[out.length - 1]!.granted) {
      leases.set(key, { points: 0, until: Date.now() + r.msBeforeNext, perMinute, used: perMinute, refused: true });
    } else if (extra > 0) {
      // What the budget still held beyond this group's requests becomes the lease, in counter order.
      const before = r.consumedPoints - asks.length - extra;
      const points = Math.max(0, Math.min(extra, perMinute - before - asks.length));
      if (points > 0) leases.set(key, { points, until: Date.now() + r.msBeforeNext, perMinute, used: before + asks.length });
    }
    return out;
  });
  /** A point from this process's lease, if it holds one for this window. */
  const fromLease = (key: string): Verdict | null => {
    const l = leases.get(key);
    if (!l) return null;
    const now = Date.now();
    if (now >= l.until || (l.points <= 0 && !l.refused)) {
      leases.delete(key);
      return null;
    }
    if (l.refused) return { granted: false, retryAfterS: Math.max(1, Math.ceil((l.until - now) / 1000)) };
    l.points--;
    l.used++;
    return { granted: true, remaining: Math.max(0, l.perMinute - l.used) };
  };
  return async (req, res, next) => {
    const partnerId = partnerTokenOf(res).partnerId;
    const perMinute = agreements.current(partnerId)?.rateLimit?.requestsPerMinute;
    if (!perMinute) return next(); // no agreement in force: the decision refuses (and logs) it
    const key = `${perMinute}/${partnerId}`;
    let v: Verdict;
    try {
      v = fromLease(key) ?? await batch.add(key, { perMinute, partnerId });
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
