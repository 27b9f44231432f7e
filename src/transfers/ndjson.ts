// application/x-ndjson for bulk pulls: one subject a line, written in chunks only as fast as the
// client reads (each chunk waits for 'drain'), then a last line {nextCursor, omitted, receipts}
// (issue 15 item 4: one signed receipt per store page sent, in order; an error line carries those
// of the pages already sent, so what left is always covered). An error
// after the first byte cannot become a status code: the stream ends with an error line instead.
import type { Response } from 'express';
import { Problem } from '../http/problem.ts';
import { ClientGone, writeChunk } from '../http/stream-write.ts';
import type { BulkResult, BulkSink } from './pull-bulk.ts';
import { quotaExceeded } from './subject-quota.ts';

// Lines go out in chunks of about this size: a TLS record and a socket write per line showed in
// the bench profile, and a chunk this small still lets backpressure bite.
const CHUNK = 64 * 1024;

/**
 * Everything already written was logged first; the last line says the rest never came and why:
 * the CONTRACT 6 code, and for a Problem its detail (written for the client; a 5xx has no more).
 */
function endWith(res: Response, e: unknown, receipts: readonly string[]): void {
  const line = e instanceof Problem
    ? { error: e.code, detail: e.message, requestId: String(res.locals.requestId), receipts }
    : { error: 'internal_error', requestId: String(res.locals.requestId), receipts };
  res.end(JSON.stringify(line) + '\n');
}

export async function streamNdjson(res: Response, run: (sink: BulkSink) => Promise<BulkResult>, wrapCursor: (c: string | null) => string | null, idleMs: number): Promise<void> {
  let started = false;
  const start = () => {
    if (started) return;
    started = true;
    res.status(200).set({ 'Content-Type': 'application/x-ndjson; charset=utf-8', 'Cache-Control': 'no-store' });
  };
  const receipts: string[] = [];
  try {
    let buffered = '';
    const flush = () => {
      if (!buffered) return undefined;
      const chunk = buffered;
      buffered = '';
      return writeChunk(res, chunk, idleMs);
    };
    const out = await run({
      item: (i) => {
        start();
        buffered += JSON.stringify(i) + '\n';
        return buffered.length >= CHUNK ? flush() : undefined;
      },
      flush,
      receipt: (jws) => { receipts.push(jws); },
    });
    start();
    await flush();
    // RULES 6: the quota filled during the last page; the stream stops there, with no cursor past it.
    if (out.quotaReached) return endWith(res, quotaExceeded(new Date()), receipts);
    res.end(JSON.stringify({ nextCursor: wrapCursor(out.nextCursor), omitted: out.omitted, receipts }) + '\n');
  } catch (e) {
    if (e instanceof ClientGone) return; // nothing more is read, so nothing more is fetched or logged
    if (!started) throw e; // still a plain problem+json response
    endWith(res, e, receipts);
  }
}
