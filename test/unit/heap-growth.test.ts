// Issue 6 (RSS during bulk pulls): the gateway bounds V8's heap growth unless the operator chose a
// factor on the command line. The memory effect itself is measured by `npm run bench`, not here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boundHeapGrowth } from '../../src/heap-growth.ts';

test('an operator-given heap growing percent is left alone, in any spelling', () => {
  for (const arg of ['--heap-growing-percent=30', '--heap_growing_percent=30', '--heap-growing-percent']) {
    assert.equal(boundHeapGrowth(['--enable-source-maps', arg]), false, arg);
  }
});

test('otherwise the bound is set', () => {
  assert.equal(boundHeapGrowth(['--enable-source-maps', '--max-old-space-size=512']), true);
});
