// Issue 16 page 1: the overview's figures from one-minute buckets of log entries (pure): windows, reasons, partners,
// cross-border share, and the per-minute series of the last hour.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OverviewBuckets } from '../../src/console/overview-stats.ts';
import type { TransferEntry } from '../../src/transfer-log/entry.ts';

const NOW = Date.parse('2026-11-27T10:30:30Z');
const MIN = 60_000;

function entry(agoMs: number, over: Partial<TransferEntry>): TransferEntry {
  return {
    id: 'e', at: new Date(NOW - agoMs).toISOString(), requestId: 'r', partnerId: 'p1', agreementId: 'agr_p1', agreementVersion: 1,
    purpose: 'advertising', subjectRef: 's', decision: 'released', reason: null, categories: [], destinationCountries: ['KZ'],
    legalBasis: 'consent', crossBorderBasis: 'domestic', policyVersion: '2024-03', keyVersion: 1,
    tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', clientCertThumbprint: null }, deleteBy: null,
    legalEntity: null, consent: null, crossBorderConsent: null, adequacyListVersion: null,
    chain: 'c', seq: 1, prevHash: '0', hash: 'h', ...over,
  };
}

test('each window counts only its own entries; reasons and partners are ranked; cross-border releases and egress-guard hits are counted', () => {
  const acc = new OverviewBuckets();
  acc.add(entry(1 * MIN, {}));
  acc.add(entry(2 * MIN, { crossBorderBasis: 'adequacy', destinationCountries: ['KZ', 'DE'] }));
  acc.add(entry(3 * MIN, { decision: 'denied', reason: 'consent_required' }));
  acc.add(entry(5 * MIN, { decision: 'denied', reason: 'consent_required', partnerId: 'p2' }));
  acc.add(entry(2 * 3_600_000, { partnerId: 'p2' }));
  acc.add(entry(2 * 3_600_000, { partnerId: 'p2', crossBorderBasis: 'consent' }));
  acc.add(entry(2 * 3_600_000, { decision: 'denied', reason: 'cross_border_not_permitted' }));
  acc.add(entry(3 * 86_400_000, { partnerId: 'p3' }));
  acc.add(entry(3 * 86_400_000, { decision: 'denied', reason: 'egress_guard' }));
  acc.add(entry(8 * 86_400_000, { partnerId: 'p4' })); // older than a week: nowhere
  const r = acc.stats(NOW, false);
  assert.deepEqual([r.windows.hour.released, r.windows.hour.denied, r.windows.hour.crossBorder], [2, 2, 1]);
  assert.deepEqual(r.windows.hour.reasons, [['consent_required', 2]]);
  assert.deepEqual(r.windows.hour.partners, [['p1', 2]]);
  assert.deepEqual([r.windows.day.released, r.windows.day.denied, r.windows.day.crossBorder], [4, 3, 2]);
  assert.deepEqual(r.windows.day.partners, [['p1', 2], ['p2', 2]]);
  assert.deepEqual(r.windows.day.reasons, [['consent_required', 2], ['cross_border_not_permitted', 1]]);
  assert.deepEqual(r.windows.week.partners, [['p1', 2], ['p2', 2], ['p3', 1]]);
  assert.deepEqual([r.windows.day.egressGuard, r.windows.week.egressGuard], [0, 1]);
  assert.equal(r.scanned, 10);
});

test('the per-minute series has 60 buckets ending with the current minute, in unix seconds', () => {
  const acc = new OverviewBuckets();
  acc.add(entry(0, {})); // 10:30:30, current minute
  acc.add(entry(20_000, { decision: 'denied', reason: 'x' })); // 10:30:10, current minute
  acc.add(entry(45_000, {})); // 10:29:45, the minute before
  acc.add(entry(59 * MIN + 30_000, {})); // 09:31:00, the first bucket
  acc.add(entry(60 * MIN + 30_000, {})); // 09:30:00: outside the hour's buckets
  const { x, released, denied } = acc.stats(NOW, false).perMinute;
  assert.equal(x.length, 60);
  assert.equal(x[59], Date.parse('2026-11-27T10:30:00Z') / 1000);
  assert.equal(x[0], Date.parse('2026-11-27T09:31:00Z') / 1000);
  assert.deepEqual([released[59], denied[59], released[58], released[0]], [1, 1, 1, 1]);
  assert.equal(released.reduce((a, b) => a + b, 0), 3);
});

test('issue 16: each window has its chart: 60 minutes, 96 quarter-hours, 168 hours, summed from the minute buckets', () => {
  const acc = new OverviewBuckets();
  acc.add(entry(1 * MIN, {}));
  acc.add(entry(20 * MIN, { decision: 'denied', reason: 'consent_required' }));
  acc.add(entry(3 * 3_600_000, {}));
  acc.add(entry(3 * 3_600_000 + 5 * MIN, {}));
  acc.add(entry(2 * 86_400_000, { decision: 'denied', reason: 'consent_required' }));
  const s = acc.stats(NOW, false).series;
  assert.deepEqual([s.hour.x.length, s.day.x.length, s.week.x.length], [60, 96, 168]);
  const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
  assert.deepEqual([sum(s.hour.released), sum(s.hour.denied)], [1, 1]);
  assert.deepEqual([sum(s.day.released), sum(s.day.denied)], [3, 1]);
  assert.deepEqual([sum(s.week.released), sum(s.week.denied)], [3, 2]);
  // Steps are equal and the last one holds now.
  assert.equal(s.day.x[1]! - s.day.x[0]!, 900);
  assert.equal(s.week.x[1]! - s.week.x[0]!, 3600);
  assert.ok(s.week.x.at(-1)! * 1000 <= NOW && NOW < s.week.x.at(-1)! * 1000 + 3_600_000);
});
