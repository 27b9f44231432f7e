// DESIGN 1: dates the decision cannot read are denials, so the parser must refuse what Date.parse
// would guess at (local times, loose formats, impossible calendar dates).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isoYear, parseInstant } from '../../src/policy/instant.ts';

test('strict ISO 8601 instants are read, with zones', () => {
  assert.equal(parseInstant('2026-11-19T08:12:00Z'), Date.UTC(2026, 10, 19, 8, 12));
  assert.equal(parseInstant('2026-11-19T08:12:00.5+05:00'), Date.UTC(2026, 10, 19, 3, 12, 0, 500));
  assert.equal(parseInstant('2026-01-10'), Date.UTC(2026, 0, 10));
  assert.equal(parseInstant(new Date(5)), 5);
  assert.equal(isoYear('1994-05-01'), 1994);
});

test('anything ambiguous or impossible is null', () => {
  for (const bad of ['2026-11-19T08:12:00', '2026-02-30', '2026-13-01', '2026-11-19T24:00:00Z', '19 Nov 2026', '1',
    '2026-11-19T08:12:00+25:00', '0999-01-01', ' 2026-01-10', '', null, 1_763_540_000_000, new Date(Number.NaN)]) {
    assert.equal(parseInstant(bad), null, String(bad));
  }
  assert.equal(isoYear('not a date'), null);
});
