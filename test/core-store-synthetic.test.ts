// Synthetic users: deterministic, well-formed, and varied enough that every branch of the
// decision (CONTRACT 6 steps 7-10) has real users to run against.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import { DEFAULT_NOW, indexOfUserId, syntheticUser, userIdAt } from '../src/core-store/synthetic.ts';
import type { UserRecord } from '../src/core-store/record.ts';

const SAMPLE = 2000;
const DAY = 86_400_000;
const NOW = Date.parse('2026-11-25T00:00:00Z');
const RETENTION_MS = 1095 * DAY;
const DEEMED_FROM = Date.parse('2026-06-08T00:00:00Z'); // 2026-06 published 06-01, plus 7 days
const ISO_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const users: UserRecord[] = Array.from({ length: SAMPLE }, (_, i) => syntheticUser(i));

test('the same index gives the same record, and different indexes different ones', () => {
  for (const i of [0, 1, 123, 1999, 987_654]) {
    const a = syntheticUser(i);
    assert.deepEqual(syntheticUser(i), a);
    assert.deepEqual(syntheticUser(i, new Date(DEFAULT_NOW)), a);
    assert.deepEqual(JSON.parse(JSON.stringify(a)), a, 'plain JSON, nothing undefined');
  }
  assert.equal(DEFAULT_NOW.toISOString(), '2026-11-25T00:00:00.000Z');
  assert.notDeepEqual({ ...syntheticUser(1), id: '' }, { ...syntheticUser(2), id: '' });
  assert.equal(new Set(users.map((u) => u.phone)).size, SAMPLE, 'phone numbers are distinct');
});

test('ids are zero-padded and round-trip; non-canonical ids map to nothing', () => {
  assert.equal(userIdAt(123), 'u_000123');
  assert.equal(userIdAt(1_234_567), 'u_1234567');
  for (const i of [0, 123, 999_999, 1_234_567]) assert.equal(indexOfUserId(userIdAt(i)), i);
  for (const id of ['u_0000123', 'u_123', 'x_000123', 'u_00012a', '']) assert.equal(indexOfUserId(id), null, id);
});

test('every user is well-formed: dates, phone, IP, correspondence', () => {
  for (const u of users) {
    assert.match(u.phone, /^\+7701\d{7}$/);
    assert.match(u.dateOfBirth, /^\d{4}-\d{2}-\d{2}$/);
    assert.ok(isIP(u.ipAddress) !== 0, u.ipAddress);
    for (const t of [u.updatedAt, u.lastActiveAt, ...u.visits, ...u.searchHistory.map((s) => s.at)]) assert.match(t, ISO_SECONDS);
    assert.ok(Date.parse(u.updatedAt) >= Date.parse('2026-01-01T00:00:00Z') && Date.parse(u.updatedAt) <= NOW, u.updatedAt);
    assert.ok(u.correspondence.length >= 1, `${u.id} has correspondence`);
    for (const c of u.correspondence) {
      // The marker must be unique to the letter, so a leak is recognisable in any payload.
      const marker = /CORR-u_\d+-\d-[0-9a-f]{8}/.exec(c.body)?.[0];
      assert.ok(marker && c.subject.includes(marker), `${u.id} correspondence carries a marker`);
      const others = JSON.stringify({ ...u, correspondence: undefined });
      assert.ok(!others.includes(marker), 'marker appears only in correspondence');
    }
  }
});

function share(pred: (u: UserRecord) => boolean): number {
  return users.filter(pred).length / SAMPLE;
}

test('the first 2,000 users cover every consent, agreement, policy and network case', () => {
  const ad = (u: UserRecord) => u.consents.purposes.advertising;
  const terminated = (u: UserRecord) => u.userAgreement.status === 'terminated';
  const terminatedAgo = (u: UserRecord) => NOW - Date.parse(u.userAgreement.terminatedAt ?? '');
  const noClick = (u: UserRecord) => u.policyAcceptance.method === null;
  const cases: Record<string, (u: UserRecord) => boolean> = {
    'advertising granted': (u) => ad(u)?.granted === true && ad(u)?.withdrawnAt === null,
    'advertising withdrawn': (u) => ad(u)?.granted === false && typeof ad(u)?.withdrawnAt === 'string',
    'advertising never given': (u) => ad(u) === undefined,
    'cross-border yes': (u) => u.consents.crossBorder.granted,
    'cross-border never given': (u) => !u.consents.crossBorder.granted && u.consents.crossBorder.at === null,
    'cross-border withdrawn': (u) => u.consents.crossBorder.withdrawnAt !== null,
    'terminated > 3 years ago': (u) => terminated(u) && terminatedAgo(u) > RETENTION_MS,
    'terminated recently': (u) => terminated(u) && terminatedAgo(u) > 0 && terminatedAgo(u) < RETENTION_MS,
    'active': (u) => u.userAgreement.status === 'active' && u.userAgreement.terminatedAt === null,
    'IPv6': (u) => isIP(u.ipAddress) === 6,
    'IPv4': (u) => isIP(u.ipAddress) === 4,
    'clicked 2026-06': (u) => u.policyAcceptance.method === 'click' && u.policyAcceptance.version === '2026-06',
    'clicked 2024-03 only': (u) => u.policyAcceptance.method === 'click' && u.policyAcceptance.version === '2024-03',
    'no click, active since 2026-06-08 (deemed)': (u) => noClick(u) && Date.parse(u.lastActiveAt) >= DEEMED_FROM,
    'no click, not active since (not deemed)': (u) => noClick(u) && Date.parse(u.lastActiveAt) < DEEMED_FROM,
    'outside Kazakhstan': (u) => u.geolocation.country !== 'KZ',
  };
  for (const [name, pred] of Object.entries(cases)) assert.ok(users.some(pred), `no user: ${name}`);
  const v6 = share(cases.IPv6!);
  assert.ok(v6 > 0.15 && v6 < 0.35, `IPv6 share ${v6}`);
  const ended = share(terminated);
  assert.ok(ended > 0.05 && ended < 0.15, `terminated share ${ended}`);
  assert.ok(share((u) => u.geolocation.country === 'KZ') > 0.75, 'mostly Kazakh cities');
});

test('consent and policy times are consistent with the user\'s activity', () => {
  for (const u of users) {
    const last = Date.parse(u.lastActiveAt);
    const end = u.userAgreement.terminatedAt;
    if (end) assert.ok(last <= Date.parse(end), `${u.id} inactive after termination`);
    for (const c of [...Object.values(u.consents.purposes), u.consents.crossBorder]) {
      if (c.withdrawnAt) assert.ok(c.at && Date.parse(c.at) <= Date.parse(c.withdrawnAt) && Date.parse(c.withdrawnAt) <= last);
    }
    const p = u.policyAcceptance;
    if (p.method === 'click') assert.ok(p.acceptedAt && Date.parse(p.acceptedAt) <= last, `${u.id} clicked while active`);
    if (p.version === '2026-06') assert.ok(Date.parse(p.acceptedAt ?? '') >= Date.parse('2026-06-01T00:00:00Z'));
  }
});
