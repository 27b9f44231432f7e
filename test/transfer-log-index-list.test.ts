// Issue 17 item 3: a subject's index is a list of stream ids (keys.ts `bySubject`), read with
// XRANGE's bounds and trimmed as XTRIM MINID trims a stream. Checked against a real stream: the
// same ids, bounds and trims must give what Redis itself gives for the stream.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { logFixture } from './harness/transfer-log.ts';
import { scanIdList, trimIdList } from '../src/transfer-log/scan.ts';

const fx = await logFixture();
after(() => fx.close());

const collect = async (g: AsyncGenerator<{ streamId: string }>) => { const out: string[] = []; for await (const x of g) out.push(x.streamId); return out; };

test('an index list is bounded and ordered as XRANGE / XREVRANGE bound the same ids in a stream, and trimmed as XTRIM MINID', async () => {
  const r = await fx.client();
  // Ids with repeated milliseconds and multi-digit sequences (lexical order would differ).
  const ids = fc.uniqueArray(fc.tuple(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 12 })), { minLength: 0, maxLength: 25, selector: ([m, q]) => `${m}-${q}` });
  const bound = fc.oneof(
    fc.constantFrom('-', '+'),
    fc.integer({ min: 0, max: 42 }).map(String),
    fc.tuple(fc.integer({ min: 0, max: 42 }), fc.integer({ min: 0, max: 13 }), fc.boolean()).map(([m, q, open]) => `${open ? '(' : ''}${m}-${q}`),
  );
  await fc.assert(fc.asyncProperty(ids, bound, bound, fc.tuple(fc.integer({ min: 1, max: 42 }), fc.integer({ min: 0, max: 13 })), async (raw, min, max, [tm, tq]) => {
    const sorted = raw.sort((a, b) => a[0] - b[0] || a[1] - b[1]).map(([m, q]) => `${m}-${q}`);
    await r.del(['{t}:s', '{t}:l']);
    for (const id of sorted) await r.xAdd('{t}:s', id, { c: '' });
    if (sorted.length) await r.rPush('{t}:l', sorted);
    // XRANGE refuses an exclusive '-'/'+' and answers an error for some bounds: compare only what it answers.
    const asc = await r.xRange('{t}:s', min, max).then((m) => m?.map((x) => x.id) ?? [], () => null);
    if (asc !== null) {
      assert.deepEqual(await collect(scanIdList(r as never, '{t}:l', { direction: 'asc', min, max })), asc, `asc ${min} ${max}`);
      const desc = (await r.xRevRange('{t}:s', max, min))?.map((x) => x.id) ?? [];
      assert.deepEqual(await collect(scanIdList(r as never, '{t}:l', { direction: 'desc', min, max })), desc, `desc ${min} ${max}`);
    }
    const minId = `${tm}-${tq}`;
    await r.xTrim('{t}:s', 'MINID', minId);
    await trimIdList(r as never, '{t}:l', minId);
    assert.deepEqual(await r.lRange('{t}:l', 0, -1), (await r.xRange('{t}:s', '-', '+'))?.map((x) => x.id) ?? [], `trim ${minId}`);
  }), { numRuns: 150 });
});
