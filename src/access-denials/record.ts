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

// KEYS: counts hash, examples list. ARGV: field, n (refusals in this batch), cap, ttl seconds (0:
// none), then pairs of (example JSON, r in [0,1)). Reservoir sampling (Vitter's R): the batch's
// events are numbered c-n+1..c; the k-th example stands for one of them and replaces slot
// floor(r*number) when that is below the cap, so every event of the day is about equally likely
// to be kept, whatever the flood's size.
const RECORD = `
local n = tonumber(ARGV[2])
local c = redis.call('HINCRBY', KEYS[1], ARGV[1], n)
local cap = tonumber(ARGV[3])
local first = c - n
for i = 5, #ARGV, 2 do
  local num = first + (i - 3) / 2
  local len = redis.call('LLEN', KEYS[2])
  if len < cap then
    redis.call('RPUSH', KEYS[2], ARGV[i])
  else
    local j = math.floor(tonumber(ARGV[i + 1]) * num)
    if j < cap then redis.call('LSET', KEYS[2], j, ARGV[i]) end
  end
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

/** Refusals of one (day, client, reason) not yet written: their count and a sample of examples. */
interface Batch { day: string; field: string; n: number; examples: DenialExample[] }

/**
 * Refusals are coalesced in memory and written at most every `flushMs` as one script per
 * (day, client, reason): a flood of refusals (a TLS 1.1 hello costs the sender almost nothing)
 * becomes a bounded number of Redis writes and bounded memory, never one write per refusal.
 */
export class AccessDenialRecorder {
  private batches = new Map<string, Batch>();

  constructor(private readonly redis: DenialRedis, private readonly o: RecorderOptions) {}

  get buffered(): number {
    return this.batches.size;
  }

  add(ev: DenialEvent): void {
    const at = (this.o.now ?? (() => new Date()))();
    const day = dayOf(at);
    const field = `${ev.client ?? 'unknown'}|${ev.reason}`;
    // No secrets, no tokens, no full address (RULES 30): time, reason, address prefix, request id.
    const example: DenialExample = {
      at: at.toISOString(), reason: ev.reason, remotePrefix: addressPrefix(ev.remoteAddress), requestId: ev.requestId ?? null,
    };
    const key = `${day} ${field}`;
    const b = this.batches.get(key) ?? { day, field, n: 0, examples: [] };
    this.batches.set(key, b);
    b.n++;
    // A reservoir within the batch too, so its examples are a fair sample of its refusals.
    if (b.examples.length < this.o.examplesPerKey) b.examples.push(example);
    else {
      const j = Math.floor((this.o.random ?? Math.random)() * b.n);
      if (j < b.examples.length) b.examples[j] = example;
    }
  }

  /** Writes everything buffered so far; resolves to the number of refusals whose write failed (dropped). */
  async flush(): Promise<{ lost: number; error?: unknown }> {
    const batches = [...this.batches.values()];
    this.batches = new Map();
    // Kept one day past the log's horizon, so a day's record outlives every entry of that day.
    const ttl = this.o.retentionDays === null ? 0 : (this.o.retentionDays + 1) * 86_400;
    const random = this.o.random ?? Math.random;
    const results = await Promise.allSettled(batches.map((b) => this.redis.eval(RECORD, {
      keys: [countsKey(b.day), examplesKey(b.day, b.field)],
      arguments: [b.field, String(b.n), String(this.o.examplesPerKey), String(ttl), ...b.examples.flatMap((e) => [JSON.stringify(e), String(random())])],
    })));
    let lost = 0;
    let error: unknown;
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') return;
      lost += batches[i]!.n;
      error ??= r.reason;
    });
    return lost ? { lost, error } : { lost };
  }
}
