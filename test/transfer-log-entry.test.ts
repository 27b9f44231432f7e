// The pure parts of issue 5 "Integrity" and "subjectRef": canonical JSON, the entry hash, the
// keyed subjectRef (RULES 27, 28).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { canonicalJson } from '../src/transfer-log/canonical.ts';
import { GENESIS, entryHash, sealEntry, sealEntryText, type EntryBody } from '../src/transfer-log/entry.ts';
import { subjectRefFn } from '../src/transfer-log/subject-ref.ts';

test('canonical JSON: keys sorted at every depth, no whitespace, arrays in order, one encoding', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [1, { z: 'é', y: 2 }], c: null }, e: true }), '{"a":{"c":null,"d":[1,{"y":2,"z":"é"}]},"b":1,"e":true}');
  assert.equal(canonicalJson({ x: 1, y: 2 }), canonicalJson({ y: 2, x: 1 }));
  assert.throws(() => canonicalJson({ a: undefined }), TypeError);
  assert.throws(() => canonicalJson({ a: Number.NaN }), TypeError);
});

const body: EntryBody = {
  id: '6f1c1d2e-0000-4000-8000-000000000001', at: '2026-11-25T00:00:00.000Z', requestId: 'req-1', partnerId: 'p_a',
  agreementId: 'agr_p_a', agreementVersion: 1, purpose: 'advertising', subjectRef: 'ref', decision: 'released', reason: null,
  categories: ['email'], destinationCountries: ['KZ'], legalBasis: 'consent', crossBorderBasis: 'domestic', policyVersion: '2024-03',
  keyVersion: 1, tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', clientCertThumbprint: null }, deleteBy: '2027-01-15T00:00:00.000Z',
  legalEntity: { name: 'Partner A LLP', country: 'KZ', registrationNumber: '123456789012' }, consent: { purpose: 'advertising', grantedAt: '2026-01-10T00:00:00.000Z' },
  crossBorderConsent: null, adequacyListVersion: 3,
};

test('hash = SHA-256(canonical entry without hash || prevHash), and every field is covered', () => {
  const e = sealEntry(body, 'chainA', 1, GENESIS);
  const { hash, ...rest } = e;
  const byHand = createHash('sha256').update(canonicalJson(rest) + GENESIS).digest('hex');
  assert.equal(hash, byHand);
  // The writer's sealing walks a fixed key list: a denial's nulls hash as canonicalJson does too.
  const denied = sealEntry({ ...body, decision: 'denied', reason: 'consent_required', subjectRef: null, categories: [], legalBasis: null, crossBorderBasis: null, deleteBy: null, keyVersion: 'k2' }, 'chainA', 7, hash);
  const { hash: deniedHash, ...deniedRest } = denied;
  assert.equal(deniedHash, createHash('sha256').update(canonicalJson(deniedRest) + hash).digest('hex'));
  assert.equal(entryHash(denied), deniedHash);
  const next = sealEntry({ ...body, id: 'other' }, 'chainA', 2, e.hash);
  assert.equal(next.prevHash, e.hash);
  for (const k of Object.keys(rest) as Array<keyof typeof rest>) {
    const changed = { ...e, [k]: k === 'seq' || k === 'agreementVersion' || k === 'adequacyListVersion' ? 99 : k === 'tls' ? { ...e.tls, cipher: 'x' } : k === 'categories' ? [] : 'x' };
    assert.notEqual(entryHash(changed), e.hash, `${k} is covered by the hash`);
  }
});

test('the stored text is the hashed canonical text plus the hash: it parses to the sealed entry, and its hash checks', () => {
  // Issue 17 item 4: the writer serialises an entry once (the text it hashes) and stores that.
  const b = { ...body, reason: 'a "quoted" \u2028 reason é' };
  const { entry, text } = sealEntryText(b, 'chainA', 3, GENESIS);
  assert.deepEqual(entry, sealEntry(b, 'chainA', 3, GENESIS));
  assert.deepEqual(JSON.parse(text), entry);
  assert.equal(entryHash(JSON.parse(text)), entry.hash);
  const { hash: _h, ...rest } = entry;
  assert.equal(text, `${canonicalJson(rest).slice(0, -1)},"hash":"${entry.hash}"}`);
});

test('subjectRef: keyed, stable, differs per key, never the id nor an HMAC under another key', () => {
  const logKey = randomBytes(32);
  const pseudonymKey = randomBytes(32);
  const ref = subjectRefFn(logKey);
  assert.equal(ref('u_000001'), ref('u_000001'));
  assert.notEqual(ref('u_000001'), ref('u_000002'));
  assert.notEqual(ref('u_000001'), subjectRefFn(randomBytes(32))('u_000001'));
  assert.notEqual(ref('u_000001'), createHmac('sha256', pseudonymKey).update('u_000001').digest('base64url'));
  assert.notEqual(ref('u_000001'), createHmac('sha256', logKey).update('u_000001').digest('base64url'), 'domain-separated');
  assert.ok(!ref('u_000001').includes('u_000001'));
  assert.match(ref('u_000001'), /^[A-Za-z0-9_-]{43}$/);
  assert.throws(() => subjectRefFn(randomBytes(16)), /256 bits/);
});
