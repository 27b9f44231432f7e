// Issue 6: a bulk pull's memory stays bounded. Each store page (1000 records, ~2 MB of JSON) lives
// across the page's awaits (log append, socket writes), so its objects are promoted and die in old
// space. V8's default lets old space grow to about four times the live heap before a full
// collection: +100-150 MB of RSS during a 100,000-user pull, none of it held data. A growing
// factor of 2 keeps the peak at about +50 MB for some 10 % more GC time (measured by
// `npm run bench`, BENCH_ONLY=bulk). An operator's own `node --heap-growing-percent=N` wins.
import { setFlagsFromString } from 'node:v8';

export const HEAP_GROWING_PERCENT = 100;

export function boundHeapGrowth(execArgv: readonly string[] = process.execArgv): boolean {
  if (execArgv.some((a) => /^--heap[-_]growing[-_]percent(=|$)/.test(a))) return false;
  // Node calls flag changes after start-up unsupported in general; this one is read afresh each
  // time V8 sets the next full-GC limit, and the bench shows it taking effect.
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  return true;
}
