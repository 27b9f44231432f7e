// Writing a long response only as fast as the client reads it (SSE and NDJSON export): each write
// that fills the socket buffer waits for 'drain', so a slow auditor never makes the gateway hold
// the log in memory; a client that went away stops the producer at its next write.
import type { Response } from 'express';
import { Problem } from './problem.ts';

export class ClientGone extends Error {
  constructor() {
    super('client closed the connection');
  }
}

/**
 * `idleMs`: a reader that takes nothing for this long is cut (the NDJSON bulk stream's
 * limits.streamIdleTimeoutMs): it may not hold a stream, its read-ahead and its permission open
 * forever (DESIGN 8, RULES 44).
 */
export function writeChunk(res: Response, chunk: string, idleMs?: number): Promise<void> {
  if (res.destroyed || res.writableEnded) return Promise.reject(new ClientGone());
  if (res.write(chunk)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const stop = () => { clearTimeout(timer); res.off('drain', done); res.off('close', gone); };
    const done = () => { stop(); resolve(); };
    const gone = () => { stop(); reject(new ClientGone()); };
    const timer = idleMs === undefined ? undefined : setTimeout(() => { stop(); res.destroy(); reject(new ClientGone()); }, idleMs);
    res.once('drain', done);
    res.once('close', gone);
  });
}

/** Aborts when the response closes: the client went away, or the response finished. */
export function closeSignal(res: Response): AbortSignal {
  const ac = new AbortController();
  if (res.destroyed || res.writableEnded) ac.abort();
  else res.once('close', () => ac.abort());
  return ac.signal;
}

/**
 * NDJSON, one item a line, oldest first. The headers wait for the first item, so a store that
 * fails before any byte still gets a problem+json status; a failure after it ends the body with
 * an `{"error","requestId"}` line, so a cut-short export never looks complete.
 */
export async function sendNdjson(res: Response, items: AsyncIterable<unknown>, headers: Record<string, string>, onError: (e: unknown) => void): Promise<void> {
  let started = false;
  const start = () => {
    if (started) return;
    started = true;
    res.status(200).set({ 'Content-Type': 'application/x-ndjson; charset=utf-8', 'Cache-Control': 'no-store', ...headers });
  };
  try {
    for await (const item of items) {
      start();
      await writeChunk(res, JSON.stringify(item) + '\n');
    }
    start();
    res.end();
  } catch (e) {
    if (e instanceof ClientGone) return; // nothing more is read, so nothing more is fetched
    if (!started) throw e;
    onError(e);
    const code = e instanceof Problem ? e.code : 'internal_error';
    if (!res.destroyed) res.end(JSON.stringify({ error: code, requestId: String(res.locals.requestId ?? '') }) + '\n');
  }
}
