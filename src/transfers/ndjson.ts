// application/x-ndjson for bulk pulls: one subject a line, written in chunks only as fast as the
// client reads (each chunk waits for 'drain'), then a last line {nextCursor, omitted}. An error
// after the first byte cannot become a status code: the stream ends with an error line instead.
import type { Response } from 'express';
import { Problem } from '../http/problem.ts';
import type { BulkResult, BulkSink } from './pull-bulk.ts';

class ClientGone extends Error {}

function writeChunk(res: Response, chunk: string): Promise<void> {
  if (res.destroyed || res.writableEnded) return Promise.reject(new ClientGone());
  if (res.write(chunk)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = () => { res.off('drain', done); res.off('close', gone); resolve(); };
    const gone = () => { res.off('drain', done); reject(new ClientGone()); };
    res.once('drain', done);
    res.once('close', gone);
  });
}

// Lines go out in chunks of about this size: a TLS record and a socket write per line showed in
// the bench profile, and a chunk this small still lets backpressure bite.
const CHUNK = 64 * 1024;

export async function streamNdjson(res: Response, run: (sink: BulkSink) => Promise<BulkResult>, wrapCursor: (c: string | null) => string | null): Promise<void> {
  let started = false;
  const start = () => {
    if (started) return;
    started = true;
    res.status(200).set({ 'Content-Type': 'application/x-ndjson; charset=utf-8', 'Cache-Control': 'no-store' });
  };
  try {
    let buffered = '';
    const flush = () => {
      if (!buffered) return undefined;
      const chunk = buffered;
      buffered = '';
      return writeChunk(res, chunk);
    };
    const out = await run({
      item: (i) => {
        start();
        buffered += JSON.stringify(i) + '\n';
        return buffered.length >= CHUNK ? flush() : undefined;
      },
      flush,
    });
    start();
    await flush();
    res.end(JSON.stringify({ nextCursor: wrapCursor(out.nextCursor), omitted: out.omitted }) + '\n');
  } catch (e) {
    if (e instanceof ClientGone) return; // nothing more is read, so nothing more is fetched or logged
    if (!started) throw e; // still a plain problem+json response
    const code = e instanceof Problem ? e.code : 'internal_error';
    // Everything already written was logged first; the marker says the rest never came.
    res.end(JSON.stringify({ error: code, requestId: String(res.locals.requestId) }) + '\n');
  }
}
