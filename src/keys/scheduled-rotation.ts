// RULES 29: pseudonym keys rotate on a schedule (`pseudonym.rotateEveryDays`; null: off). Every
// instance runs this timer; each partner's rotation is a compare-and-set on its last rotation time
// in Redis (partner-key-store.ts rotateIfDue), so however many instances check at once, a partner
// rotates once per period, and a restart forgets nothing. Partners whose agreement is terminated
// are skipped: termination rotated them already, and nothing is released to them any more.
import type { Logger } from '../log.ts';
import type { PartnerKeyStore } from './partner-key-store.ts';

const DAY_MS = 86_400_000;
/** How often each instance looks; a partner is rotated at most this late. */
export const CHECK_EVERY_MS = 3_600_000;

export interface RotationScheduleDeps {
  store: Pick<PartnerKeyStore, 'rotateIfDue' | 'partnerIds'>;
  /** The partner's current agreement status, if it has one (the agreements cache). */
  agreementStatus(partnerId: string): string | undefined;
  rotateEveryDays: number;
  log: Logger;
  now?: () => number;
  checkEveryMs?: number;
}

export class ScheduledRotation {
  private timer: NodeJS.Timeout | undefined;
  private first: NodeJS.Timeout | undefined;
  private running: Promise<string[]> | null = null;
  private failing = false;

  constructor(private readonly d: RotationScheduleDeps) {}

  start(): void {
    const every = this.d.checkEveryMs ?? CHECK_EVERY_MS;
    this.timer = setInterval(() => void this.tick(), every);
    this.timer.unref();
    // Soon after start too, so an instance restarted more often than hourly still checks.
    this.first = setTimeout(() => void this.tick(), Math.min(every, 10_000));
    this.first.unref();
  }

  /** One pass at `now` (tests inject the clock); the partners rotated. Never two at once here. */
  tick(now = (this.d.now ?? Date.now)()): Promise<string[]> {
    return (this.running ??= this.pass(now).finally(() => { this.running = null; }));
  }

  close(): Promise<unknown> {
    clearInterval(this.timer);
    clearTimeout(this.first);
    return this.running ?? Promise.resolve();
  }

  private async pass(now: number): Promise<string[]> {
    const rotated: string[] = [];
    try {
      for (const id of await this.d.store.partnerIds()) {
        if (this.d.agreementStatus(id) === 'terminated') continue;
        const rec = await this.d.store.rotateIfDue(id, this.d.rotateEveryDays * DAY_MS, new Date(now));
        if (!rec) continue;
        rotated.push(id);
        this.d.log.info({ partnerId: id, keyVersion: rec.current, code: 'KEY_ROTATED', reason: 'schedule' }, 'pseudonym key rotated on schedule (RULES 29)');
      }
      this.failing = false;
    } catch (e) {
      // Redis unreachable: the next pass retries; what was due stays due. Logged once per outage.
      if (!this.failing) this.d.log.warn({ err: { message: (e as Error).message } }, 'scheduled key rotation failed; retrying next pass');
      this.failing = true;
    }
    return rotated;
  }
}
