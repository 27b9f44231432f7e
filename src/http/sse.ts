// Server-Sent Events for the live transfer log (CONTRACT 5, issue 5). Each event carries the
// entry's stream id as `id:`, so a browser EventSource (or any client) resumes after a drop by
// sending it back as Last-Event-ID. Heartbeat comments keep proxies and load balancers from
// closing a quiet stream; writes wait for 'drain' so a slow reader never piles entries up here.
import type { Response } from 'express';
import { Problem } from './problem.ts';
import { ClientGone, writeChunk } from './stream-write.ts';

export interface SseEvent { id: string; event: string; data: unknown }

export interface SseOptions {
  /** Interval of `: keep-alive` comments (default 15 s, under the common 30-60 s proxy idle timeouts). */
  heartbeatMs?: number;
  /** Reconnect delay suggested to EventSource clients. */
  retryMs?: number;
  /** Called with a failure after the headers went out (it can no longer become a status code). */
  onError?: (e: unknown) => void;
}

export const SSE_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  // The stream is live and carries log data: never cached, never buffered by nginx-style proxies.
  'Cache-Control': 'no-store',
  'X-Accel-Buffering': 'no',
  Connection: 'keep-alive',
};

/** `data` is JSON, which has no raw newlines, so one `data:` line always holds it. */
export const formatEvent = (e: SseEvent) => `id: ${e.id}\nevent: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`;

/**
 * Send the headers, then every event of `events` until it ends or the client leaves. Validate
 * everything first: once this runs, errors can only be reported in the stream.
 */
export async function streamSse(res: Response, events: AsyncIterable<SseEvent>, opts: SseOptions = {}): Promise<void> {
  res.status(200);
  for (const [k, v] of Object.entries(SSE_HEADERS)) res.setHeader(k, v);
  res.flushHeaders();
  const heartbeat = setInterval(() => {
    // Skipped while the socket is full: the pending data keeps the connection busy anyway.
    if (!res.destroyed && !res.writableEnded && !res.writableNeedDrain) res.write(': keep-alive\n\n');
  }, opts.heartbeatMs ?? 15_000);
  try {
    await writeChunk(res, `retry: ${opts.retryMs ?? 2000}\n\n`);
    for await (const e of events) await writeChunk(res, formatEvent(e));
    res.end();
  } catch (e) {
    if (e instanceof ClientGone) return;
    opts.onError?.(e);
    // The client reconnects with its Last-Event-ID and misses nothing; 5xx details stay in our log.
    const code = e instanceof Problem ? e.code : 'internal_error';
    if (!res.destroyed) res.end(`event: error\ndata: ${JSON.stringify({ code, requestId: String(res.locals.requestId ?? '') })}\n\n`);
  } finally {
    clearInterval(heartbeat);
  }
}
