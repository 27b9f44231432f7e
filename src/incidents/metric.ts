// RULES 50: gateway_incidents_open is read from Redis at each scrape, so every instance reports the
// same count and an acknowledgement through any instance lowers it; alert on > 0.
import { Counter, Gauge, type Registry } from 'prom-client';

export function registerIncidentMetrics(registry: Registry, openCount: () => Promise<number>): { opened: Counter<'kind'> } {
  new Gauge({
    name: 'gateway_incidents_open',
    help: 'incidents not yet acknowledged (RULES 50: egress-guard hit, failed verify, anchor mismatch); -1 when Redis could not be read',
    registers: [registry],
    // Issue 17 item 2: each worker reads the same count from Redis; across workers, the largest.
    aggregator: 'max',
    async collect() {
      this.set(await openCount().catch(() => -1));
    },
  });
  const opened = new Counter({
    name: 'gateway_incidents_opened_total', help: 'incidents opened by this instance, by kind (RULES 50)',
    labelNames: ['kind'] as const, registers: [registry],
  });
  return { opened };
}
