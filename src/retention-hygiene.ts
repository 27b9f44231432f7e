// RULES 21: a user past retention still in the core store is a data-hygiene fault (the record
// should already have been destroyed), so besides the 404 retention_expired denial it raises a
// metric: each such user once per UTC day, and the day's distinct count as a gauge. Users are
// told apart by an HMAC under a key that lives only in this process's memory (RULES 28: no
// unkeyed hash of an id; DESIGN 7: nothing of it is written anywhere).
import { createHmac, randomBytes } from 'node:crypto';
import { DAY_MS } from './policy/instant.ts';

export interface HygieneCounter { inc(): void }
export interface HygieneGauge { set(value: number): void }

// Past this many distinct users in a day, every sighting counts: an alert may over-count, never
// stay silent, and memory stays bounded.
const MAX_TRACKED = 100_000;

export class RetentionHygiene {
  private readonly key = randomBytes(32);
  private day = -1;
  private seen = new Set<string>();
  private overflow = 0;

  constructor(private readonly counter: HygieneCounter, private readonly today: HygieneGauge) {}

  /** A retention_expired decision for `userId` at `now`. */
  observe(userId: string, now: Date): void {
    this.roll(now);
    const ref = createHmac('sha256', this.key).update(userId, 'utf8').digest('base64url');
    if (this.seen.has(ref)) return;
    if (this.seen.size < MAX_TRACKED) this.seen.add(ref);
    else this.overflow++;
    this.counter.inc();
    this.today.set(this.seen.size + this.overflow);
  }

  /** Before a scrape: a new UTC day starts from zero. */
  refresh(now: Date): void {
    this.roll(now);
    this.today.set(this.seen.size + this.overflow);
  }

  private roll(now: Date): void {
    const day = Math.floor(now.getTime() / DAY_MS);
    if (day === this.day) return;
    this.day = day;
    this.seen = new Set();
    this.overflow = 0;
  }
}
