// DESIGN 9, RULES 42, CONTRACT 11: cursors are authenticated encryption under a key of their own,
// bound to kind and caller, expiring after limits.cursorTtlSeconds; stream ids beyond 64 bits are
// refused before Redis (issue [1/6] item 3).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CURSOR_KINDS, CursorCodec, cursorKey } from '../../src/cursors/codec.ts';
import { isExclusiveBound, isStreamId } from '../../src/redis/stream-id.ts';

const MASTER = Buffer.alloc(32, 0x5a);
const KEY = cursorKey(MASTER);
const T0 = Date.parse('2026-11-27T00:00:00Z');
const codec = (now = () => T0, ttlSeconds = 86_400) => new CursorCodec(KEY, { ttlSeconds, now });

test('round trip for every kind; the cursor differs each time (random nonce) and is base64url', () => {
  const c = codec();
  for (const kind of CURSOR_KINDS) {
    const a = c.seal(kind, ['acme', 'service_delivery'], 'aTEyMw');
    const b = c.seal(kind, ['acme', 'service_delivery'], 'aTEyMw');
    assert.notEqual(a, b);
    assert.match(a, /^[A-Za-z0-9_-]+$/);
    assert.deepEqual(c.open(kind, ['acme', 'service_delivery'], a), { ok: true, inner: 'aTEyMw' });
  }
});

test('the key is HKDF of the master under its own info: another master, another key; not the master itself', () => {
  assert.equal(KEY.length, 32);
  assert.notDeepEqual(KEY, MASTER);
  assert.notDeepEqual(cursorKey(Buffer.alloc(32, 1)), KEY);
  const sealed = codec().seal('bulk', ['acme', 'p'], 'x');
  assert.equal(new CursorCodec(cursorKey(Buffer.alloc(32, 1)), { ttlSeconds: 60 }).open('bulk', ['acme', 'p'], sealed).ok, false);
});

test('another partner, purpose, kind or filter → refused', () => {
  const c = codec();
  const s = c.seal('bulk', ['acme', 'service_delivery'], 'aTEyMw');
  assert.equal(c.open('bulk', ['globex', 'service_delivery'], s).ok, false, 'partner');
  assert.equal(c.open('bulk', ['acme', 'fraud_prevention'], s).ok, false, 'purpose');
  for (const kind of CURSOR_KINDS.filter((k) => k !== 'bulk')) assert.equal(c.open(kind, ['acme', 'service_delivery'], s).ok, false, kind);
  // The binding is unambiguous: moving a separator between parts does not carry a cursor over.
  const t = c.seal('transfers', ['a', 'b'], '1-1');
  assert.equal(c.open('transfers', ['a\u0000b'], t).ok, false);
  assert.equal(c.open('transfers', ['a', 'b', ''], t).ok, false);
});

test('expired after ttlSeconds by the injected clock; still valid at exactly the TTL', () => {
  let now = T0;
  const c = codec(() => now, 3600);
  const s = c.seal('notifications', ['acme'], '1700000000000-0');
  now = T0 + 3600_000;
  assert.deepEqual(c.open('notifications', ['acme'], s), { ok: true, inner: '1700000000000-0' });
  now += 1;
  const o = c.open('notifications', ['acme'], s);
  assert.equal(o.ok, false);
  assert.match(!o.ok ? o.reason : '', /expired/);
});

test('every single flipped bit, and truncation or extension, is refused (property)', () => {
  const c = codec();
  const s = c.seal('bulk', ['acme', 'p'], 'aTEyMw');
  const raw = Buffer.from(s, 'base64url');
  fc.assert(fc.property(fc.nat(raw.length * 8 - 1), (bit) => {
    const b = Buffer.from(raw);
    b[bit >> 3]! ^= 1 << (bit & 7);
    return c.open('bulk', ['acme', 'p'], b.toString('base64url')).ok === false;
  }), { numRuns: raw.length * 8 });
  for (const bad of [s.slice(0, -1), s.slice(0, -4), `${s}A`, `${s}AAAA`, '', 'abc', 'a'.repeat(5000), `${s}.x`, s.replace(/.$/, (ch) => (ch === 'A' ? 'B' : 'A'))]) {
    assert.equal(c.open('bulk', ['acme', 'p'], bad).ok, false, bad.slice(0, 20));
  }
});

test('the length does not follow the inner cursor\'s length within a 32-byte block', () => {
  const c = codec();
  const lens = new Set(['i1', 'i12', 'i123', 'i1234567', 'i123456789012'].map((x) => c.seal('bulk', ['a', 'p'], Buffer.from(x).toString('base64url')).length));
  assert.equal(lens.size, 1);
});

test('nothing of the inner cursor or the binding is readable in the cursor', () => {
  const c = codec();
  fc.assert(fc.property(fc.stringMatching(/^[A-Za-z0-9_-]{4,40}$/), (inner) => {
    const s = c.seal('bulk', ['acme', 'service_delivery'], inner);
    const views = [s, Buffer.from(s, 'base64url').toString('latin1'), Buffer.from(s, 'base64url').toString('hex')];
    return views.every((v) => !v.includes(inner) && !v.includes('acme') && !v.includes('service_delivery'));
  }), { numRuns: 300 });
});

test('stream ids: each part ≤ 2^64-1 (BigInt), and usable as an exclusive bound', () => {
  assert.ok(isStreamId('0-0'));
  assert.ok(isStreamId('18446744073709551615-18446744073709551615'));
  assert.ok(!isStreamId('18446744073709551616-0'));
  assert.ok(!isStreamId('0-18446744073709551616'));
  assert.ok(!isStreamId('99999999999999999999999-0'));
  assert.ok(!isStreamId('1-'));
  assert.ok(!isStreamId('-1-1'));
  assert.ok(!isStreamId('1-1 '));
  for (const d of ['after', 'before'] as const) {
    assert.ok(isExclusiveBound('1700000000000-3', d));
    assert.ok(!isExclusiveBound('99999999999999999999999-0', d));
    assert.ok(!isExclusiveBound('1-18446744073709551616', d));
  }
  assert.ok(isExclusiveBound('0-0', 'after'), 'reading on after 0-0 is reading from the start');
  assert.ok(!isExclusiveBound('0-0', 'before'), '(0-0 has nothing before it: Redis refuses it as an exclusive end');
  assert.ok(isExclusiveBound('18446744073709551615-18446744073709551615', 'before'));
  assert.ok(!isExclusiveBound('18446744073709551615-18446744073709551615', 'after'), 'nothing after the last id');
});

test('limits.cursorTtlSeconds: default one day; out of range stops start-up naming the key', async () => {
  const { loadConfig } = await import('../../src/config/load.ts');
  assert.equal(loadConfig({ requireFiles: [] }).limits.cursorTtlSeconds, 86_400);
  for (const bad of [0, 59, 30 * 86_400 + 1, 1.5, '3600']) {
    assert.throws(() => loadConfig({ requireFiles: [], overrides: { limits: { cursorTtlSeconds: bad } } }), /limits\.cursorTtlSeconds/, String(bad));
  }
});
