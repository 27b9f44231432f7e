// RULES 23 DELETE_UNCONFIRMED, the escalation: deletion notices past their confirmation deadline
// are swept into the overdue list (each instance's worker pass, and every admin read, so the list
// is exact whatever the timer did), logged once each by the instance that moved them, and counted
// in gateway_notices_overdue{partner,type}. The gauge is read back from Redis after each sweep, so
// every instance reports the same count, after a restart too (aggregate with max, not sum).
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '../log.ts';
import type { Confirmations, OverdueCount, OverdueItem } from './confirmations.ts';

export interface OverdueView { items: OverdueItem[]; total: number; counts: OverdueCount[] }

export class OverdueWatch {
  private readonly gauge: Gauge<'partner' | 'type'>;

  constructor(private readonly confirmations: Confirmations, registry: Registry | undefined, private readonly log: Logger) {
    // Labels: partner id and notice type only (no subject, no notice id: RULES 24).
    this.gauge = new Gauge({
      name: 'gateway_notices_overdue', help: 'deletion notices (retention_expired, subject_erased) not confirmed by their deadline (RULES 23)',
      labelNames: ['partner', 'type'] as const, registers: registry ? [registry] : [],
      // Issue 17 item 2: every worker reads the same count back from Redis; summing would multiply it.
      aggregator: 'max',
    });
  }

  /** Move what passed its deadline, log each once, refresh the gauge. */
  async sweep(now: number): Promise<OverdueCount[]> {
    for (const n of await this.confirmations.sweep(now)) {
      this.log.error({ partnerId: n.partnerId, noticeId: n.noticeId, type: n.type, code: 'DELETE_UNCONFIRMED' }, 'deletion notice not confirmed by its deadline: overdue');
    }
    const counts = await this.confirmations.counts();
    this.gauge.reset(); // no await between reset and set: a scrape never sees it half filled
    for (const c of counts) this.gauge.set({ partner: c.partnerId, type: c.type }, c.count);
    return counts;
  }

  async view(limit: number, now: number): Promise<OverdueView> {
    const counts = await this.sweep(now);
    return { ...(await this.confirmations.list(limit)), counts };
  }
}
