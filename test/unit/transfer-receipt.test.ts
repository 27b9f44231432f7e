// Issue 15 item 4, the pure parts: seq ranges round-trip, a page becomes one run per chain, and a
// receipt's signature is exactly what `jose` (an independent implementation) accepts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compactVerify, importJWK } from 'jose';
import { decodeRanges, encodeRanges } from '../../src/transfer-log/seq-ranges.ts';
import { receiptSigner, segmentsOf } from '../../src/transfer-log/receipt.ts';
import { parseReceipt, InvalidReceipt } from '../../src/transfer-log/receipt-check.ts';
import { publicJwks } from '../../src/transfer-log/jwks.ts';
import { newSigningJwk } from '../../src/keys/files.ts';
import type { TransferEntry } from '../../src/transfer-log/entry.ts';

test('seq ranges: encode compresses runs and decode inverts it; malformed, descending or oversized text is refused', () => {
  assert.equal(encodeRanges([5, 6, 7, 9, 11, 12]), '5-7,9,11-12');
  assert.equal(encodeRanges([]), '');
  for (const seqs of [[1], [1, 2, 3], [3, 5, 7], [10, 11, 20, 21, 22, 40]]) assert.deepEqual(decodeRanges(encodeRanges(seqs)), seqs);
  for (const bad of ['0', '5-3', '3,2', '1,,2', 'a', '1-2-3', '01']) assert.equal(decodeRanges(bad), null, bad);
  assert.equal(decodeRanges('1-1000', 999), null);
});

const entry = (chain: string, seq: number, decision: 'released' | 'denied' = 'released') =>
  ({ id: `t${seq}`, chain, seq, hash: String(seq % 10).repeat(64), at: `2026-01-01T00:00:${String(seq % 60).padStart(2, '0')}.000Z`, decision }) as TransferEntry;

test('segments: consecutive seqs of one chain form one run ending at its last hash; a gap or another chain starts a new one', () => {
  const s = segmentsOf([entry('a', 4), entry('a', 5, 'denied'), entry('a', 6), entry('a', 8), entry('b', 9)]);
  assert.deepEqual(s.map(({ chain, from, to, hash, released }) => ({ chain, from, to, hash, released })), [
    { chain: 'a', from: 4, to: 6, hash: '6'.repeat(64), released: '4,6' },
    { chain: 'a', from: 8, to: 8, hash: '8'.repeat(64), released: '8' },
    { chain: 'b', from: 9, to: 9, hash: '9'.repeat(64), released: '9' },
  ]);
});

test('a receipt verifies with jose under the public key, parses back, and is refused under another key or with a changed byte', async () => {
  const key = newSigningJwk();
  const sign = receiptSigner(key);
  const ctx = { partnerId: 'p1', purpose: 'service_delivery', requestId: 'r1' };
  const jws = sign.entry(ctx, entry('c', 3), 'v1.subject');
  const { d: _d, ...pub } = key;
  const v = await compactVerify(jws, await importJWK(pub as object, 'ES256'));
  assert.equal(v.protectedHeader.kid, key.kid);
  assert.equal(JSON.parse(new TextDecoder().decode(v.payload)).entry.subject, 'v1.subject');
  assert.equal(parseReceipt(publicJwks(key), jws).receipt.partnerId, 'p1');
  assert.throws(() => parseReceipt(publicJwks(newSigningJwk()), jws), InvalidReceipt);
  const [h, p, s] = jws.split('.');
  const body = JSON.parse(Buffer.from(p!, 'base64url').toString());
  body.partnerId = 'p2';
  assert.throws(() => parseReceipt(publicJwks(key), `${h}.${Buffer.from(JSON.stringify(body)).toString('base64url')}.${s}`), InvalidReceipt);
  assert.equal(sign.page(ctx, [entry('c', 4, 'denied')], ['']), null, 'nothing released, no receipt');
  const page = sign.page(ctx, Array.from({ length: 1000 }, (_, i) => entry('c', 10 + i)), Array.from({ length: 1000 }, (_, i) => `v1.s${i}`))!;
  assert.ok(page.length < 1000, `a page receipt of 1000 entries is ${page.length} bytes`);
});
