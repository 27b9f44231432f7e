// Metrics of what the gateway depends on (issue 16, deploy/monitoring/): transfer log appends and
// verify runs, notice deliveries per partner, and Redis health. Labels are fixed outcome words and
// partner ids, never request values or personal data (DESIGN 7). The alert rules in
// deploy/monitoring/alerts.yml and the dashboard read exactly these names.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { TransferLogObserver, AppendOutcome, VerifyOutcome } from './transfer-log/index.ts';
import type { DeliveryObserver } from './notices/index.ts';

const APPEND_OUTCOMES: readonly AppendOutcome[] = ['durable', 'audit_unavailable', 'invalid'];
const VERIFY_OUTCOMES: readonly VerifyOutcome[] = ['ok', 'broken', 'recipients_drift', 'error'];

export function createBackendMetrics(registry: Registry) {
  const transferLogAppend = new Histogram({
    name: 'gateway_transfer_log_append_duration_seconds',
    help: 'transfer log append calls by outcome, as the caller waits (audit_unavailable: CONTRACT 6 step 11, nothing released)',
    labelNames: ['outcome'] as const, buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [registry],
  });
  const transferLogVerify = new Counter({
    name: 'gateway_transfer_log_verify_total', help: 'transfer log verify runs by result (ok, broken, recipients_drift, error)',
    labelNames: ['result'] as const, registers: [registry],
  });
  const noticeDeliveries = new Counter({
    name: 'gateway_notice_deliveries_total', help: 'notice webhook attempts by partner and outcome (acknowledged, retry, dead_letter)',
    labelNames: ['partner', 'outcome'] as const, registers: [registry],
  });
  // Present from the start at 0, so increase() sees the first failure (a series born at 1 has no
  // earlier sample to increase from).
  for (const outcome of APPEND_OUTCOMES) transferLogAppend.zero({ outcome });
  for (const result of VERIFY_OUTCOMES) transferLogVerify.inc({ result }, 0);
  return { transferLogAppend, transferLogVerify, noticeDeliveries };
}

export type BackendMetrics = ReturnType<typeof createBackendMetrics>;

export const transferLogObserver = (m: BackendMetrics): TransferLogObserver => ({
  appended: (outcome, seconds) => m.transferLogAppend.observe({ outcome }, seconds),
  verified: (result) => m.transferLogVerify.inc({ result }),
});

export const deliveryObserver = (m: BackendMetrics): DeliveryObserver =>
  (partner, outcome) => m.noticeDeliveries.inc({ partner, outcome });

/** How each Redis connection is doing, asked at scrape time. */
export interface RedisHealth {
  /** The command connection answers a PING in time. */
  commands(): Promise<boolean>;
  /** The subscriber connection is connected and its heartbeat is fresh (the policy caches depend on it). */
  subscriber(): boolean;
}

/** gateway_redis_up{connection}: 1 up, 0 down. */
export function registerRedisGauge(registry: Registry, health: RedisHealth): void {
  new Gauge({
    name: 'gateway_redis_up', help: 'Redis reachable from this instance, by connection (commands: PING in time; subscriber: connected with a fresh heartbeat)',
    labelNames: ['connection'] as const, registers: [registry],
    // Issue 17 item 2: across workers, 0 as soon as one worker cannot reach Redis.
    aggregator: 'min',
    async collect() {
      this.set({ connection: 'commands' }, (await health.commands()) ? 1 : 0);
      this.set({ connection: 'subscriber' }, health.subscriber() ? 1 : 0);
    },
  });
}
