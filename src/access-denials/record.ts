// RULES 48: every refusal leaves a trace, also those before a partner is known (unknown client,
// bad secret or assertion, bad token, 429, TLS floor). A flood must not fill Redis, so the record
// is bounded: per UTC day one hash of counts keyed `{client}|{reason}`, and for each key a capped
// list of examples (the first N of the day, then a reservoir sample), all expiring with the
// transfer log (retention.transferLogDays). A client id that is not registered is attacker-chosen
// text and is never stored (RULES 24): it counts under "unregistered"; no client id at all is "unknown".
import type { DenialExample, DenialReason } from './reasons.ts';
import { addressPrefix } from './address-prefix.ts';

/** What the recorder needs of Redis (node-redis provides it). */
export interface DenialRedis {
  eval(script: string, opts: { keys: string[]; arguments: string[] }): Promise<unknown>;
}

export interface DenialEvent {
  reason: DenialReason;
  /** A registered client id, 'unregistered', or null (none presented). Never raw request text. */
  client: string | null;
  remoteAddress?: string | undefined;
  requestId?: string | null | undefined;
}

export const DAY_MS = 86_400_000;
export const dayOf = (t: Date) => t.toISOString().slice(0, 10);
export const countsKey = (day: string) => `pg:denials:{${day}}:counts`;
export const examplesKey = (day: string, field: string) => `pg:denials:{${day}}:ex:${field}`;

// KEYS: counts hash, examples list. ARGV: field, example JSON, cap, ttl seconds (0: none), r in [0,1).
// Reservoir sampling (Vitter's R): the c-th event replaces slot floor(r*c) when that is below the cap,
// so every event of the day is equally likely to be kept, whatever the flood's size.
const RECORD = `
local c = redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
local cap = tonumber(ARGV[3])
if c <= cap then
  redis.call('RPUSH', KEYS[2], ARGV[2])
else
  local j = math.floor(tonumber(ARGV[5]) * c)
  if j < cap then redis.call('LSET', KEYS[2], j, ARGV[2]) end
end
local ttl = tonumber(ARGV[4])
if ttl > 0 then
  redis.call('EXPIRE', KEYS[1], ttl)
  redis.call('EXPIRE', KEYS[2], ttl)
end
return c`;

export interface RecorderOptions {
  /** Examples kept per (day, client, reason). */
  examplesPerKey: number;
  /** How long the record is kept (the transfer log's retention); null: as long as the log, i.e. not trimmed. */
  retentionDays: number | null;
  now?: () => Date;
  random?: () => number;
}

export class AccessDenialRecorder {
  constructor(private readonly redis: DenialRedis, private readonly o: RecorderOptions) {}

  async record(ev: DenialEvent): Promise<void> {
    const at = (this.o.now ?? (() => new Date()))();
    const day = dayOf(at);
    const field = `${ev.client ?? 'unknown'}|${ev.reason}`;
    // No secrets, no tokens, no full address (RULES 30): time, reason, address prefix, request id.
    const example: DenialExample = {
      at: at.toISOString(), reason: ev.reason, remotePrefix: addressPrefix(ev.remoteAddress), requestId: ev.requestId ?? null,
    };
    // Kept one day past the log's horizon, so a day's record outlives every entry of that day.
    const ttl = this.o.retentionDays === null ? 0 : (this.o.retentionDays + 1) * 86_400;
    await this.redis.eval(RECORD, {
      keys: [countsKey(day), examplesKey(day, field)],
      arguments: [field, JSON.stringify(example), String(this.o.examplesPerKey), String(ttl), String((this.o.random ?? Math.random)())],
    });
  }
}
