// CONTRACT 4 subjects, RULES 25-29: stable per (user, partner, key version), unlinkable across
// partners, reversible only with the gateway's key, and anything tampered or foreign is null.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import fc from 'fast-check';
import { createPseudonymizer } from '../../src/pseudonym/subject.ts';
import { userIdAt } from '../../src/core-store/synthetic.ts';

const MASTER = Buffer.alloc(32, 0x5a);
const p = createPseudonymizer(MASTER);
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.v=+/ ';

test('stable across calls and instances; decodes back for the same partner', () => {
  const t = p.encode('u_000123', 'acme', 1);
  assert.equal(p.encode('u_000123', 'acme', 1), t);
  assert.equal(createPseudonymizer(Buffer.from(MASTER)).encode('u_000123', 'acme', 1), t);
  assert.match(t, /^v1\.[A-Za-z0-9_-]{30,}$/);
  assert.deepEqual(p.decode(t, 'acme', [1]), { userId: 'u_000123', keyVersion: 1 });
  assert.notEqual(createPseudonymizer(Buffer.alloc(32, 1)).encode('u_000123', 'acme', 1), t, 'another master key');
});

test('RULES 26: two partners never share a pseudonym (20 000 users, no equality either way)', () => {
  const a = new Set<string>();
  const b = new Set<string>();
  for (let i = 0; i < 20_000; i++) {
    a.add(p.encode(userIdAt(i), 'acme', 1));
    b.add(p.encode(userIdAt(i), 'globex', 1));
  }
  assert.equal(a.size, 20_000, 'distinct users, distinct pseudonyms');
  for (const t of b) assert.ok(!a.has(t));
});

test('property: any id round-trips, differs across partners and key versions, and never shows the id', () => {
  fc.assert(
    fc.property(fc.string({ minLength: 1, maxLength: 64, unit: 'binary' }), fc.string({ minLength: 1, maxLength: 16 }), (id, partner) => {
      fc.pre(Buffer.from(id, 'utf8').toString('utf8') === id);
      const t = p.encode(id, partner, 3);
      assert.deepEqual(p.decode(t, partner, [3]), { userId: id, keyVersion: 3 });
      assert.notEqual(t, p.encode(id, `${partner}x`, 3));
      assert.notEqual(t.slice(3), p.encode(id, partner, 4).slice(3));
      if (id.length >= 4) assert.ok(!t.includes(id));
    }),
    { numRuns: 500 },
  );
  fc.assert(fc.property(fc.stringMatching(/^u_\d{6}$/), (id) => { assert.ok(!p.encode(id, 'acme', 1).includes(id.slice(2))); }));
});

test('another partner\'s token is not found (RULES 42)', () => {
  const t = p.encode('u_000123', 'acme', 1);
  assert.equal(p.decode(t, 'globex', [1]), null);
  assert.equal(p.decode(t, 'acme ', [1]), null);
});

test('changing any one character makes the token undecodable', () => {
  let tried = 0;
  // Three id lengths, so the base64url body ends with 0, 2 and 4 unused bits.
  for (const id of ['u_000123', 'u_1234567', 'u_12345678']) {
    const t = p.encode(id, 'acme', 1);
    for (let i = 0; i < t.length; i++) {
      for (const ch of ALPHABET) {
        if (ch === t[i]) continue;
        const forged = t.slice(0, i) + ch + t.slice(i + 1);
        assert.equal(p.decode(forged, 'acme', [1, 2, 11]), null, `${id}: position ${i} -> ${ch}`);
        tried++;
      }
    }
  }
  assert.ok(tried > 3000);
});

test('RULES 29: the key version is carried; other or unaccepted versions do not decode', () => {
  const v1 = p.encode('u_000123', 'acme', 1);
  const v2 = p.encode('u_000123', 'acme', 2);
  assert.ok(v2.startsWith('v2.'));
  assert.notEqual(v1.slice(3), v2.slice(3));
  assert.equal(p.decode(v1, 'acme', [2]), null, 'v1 no longer accepted');
  assert.equal(p.decode(`v2.${v1.slice(3)}`, 'acme', [1, 2]), null, 'relabelled version');
  assert.deepEqual(p.decode(v2, 'acme', [1, 2]), { userId: 'u_000123', keyVersion: 2 });
});

test('malformed tokens are null, never a throw', () => {
  const body = p.encode('u_000123', 'acme', 1).slice(3);
  for (const t of ['', 'v1.', 'v0.' + body, 'v01.' + body, 'x1.' + body, 'v1' + body, 'v1.' + body + '=', 'v1.' + body.slice(0, 20), 'v1.!!', 'v1.' + 'A'.repeat(5000)]) {
    assert.equal(p.decode(t, 'acme', [0, 1]), null, t.slice(0, 40));
  }
  assert.equal(p.decode(undefined as unknown as string, 'acme', [1]), null);
  assert.equal(p.decode('v1.' + body, '', [1]), null);
});

test('field keys: 256-bit, per partner and version, stable', () => {
  const k = p.fieldKey('acme', 1);
  assert.equal(k.length, 32);
  assert.deepEqual(p.fieldKey('acme', 1), k);
  assert.notDeepEqual(p.fieldKey('globex', 1), k);
  assert.notDeepEqual(p.fieldKey('acme', 2), k);
});

test('RULES 27: a short master key is refused; bad inputs to encode throw', () => {
  assert.throws(() => createPseudonymizer(Buffer.alloc(16)), /256 bits/);
  assert.throws(() => p.encode('', 'acme', 1));
  assert.throws(() => p.encode('u_1', 'acme', 0));
  assert.throws(() => p.encode('u_1', '', 1));
});

test('RULES 28: policy/ and pseudonym/ never call an unkeyed hash', () => {
  for (const dir of ['policy', 'pseudonym']) {
    const url = new URL(`../../src/${dir}/`, import.meta.url);
    for (const f of readdirSync(url)) {
      assert.doesNotMatch(readFileSync(new URL(f, url), 'utf8'), /createHash\s*\(|\.hash\s*\(/, `${dir}/${f}`);
    }
  }
});
