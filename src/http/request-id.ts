// Every request gets an id that the response header, the problem body and the log line share.
import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from '../log.ts';

// A caller's own id is adopted only when it is a UUID (a tracing id): any other value could carry
// free text — an e-mail address, a user id — into every log line of the request (RULES 24).
const CALLER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What a finished request reports besides its log line (the HTTP metrics), by route template. */
export type RequestObserver = (route: string, status: number, seconds: number) => void;

/**
 * Issue 17 item 4: one 'finish' listener per request serves the log line and the metrics (`observe`),
 * with one clock read and one route lookup, instead of one listener, timer and lookup each.
 */
export function requestIds(log: Logger, observe?: RequestObserver): RequestHandler {
  return (req, res, next) => {
    const incoming = req.get('x-request-id');
    const id = incoming && CALLER_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader('x-request-id', id);
    res.locals.requestId = id;
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      // The route template, never the URL: paths carry pseudonyms and queries carry filters.
      const route = req.route?.path ? `${req.baseUrl}${req.route.path}` : 'unmatched';
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      observe?.(route, res.statusCode, ms / 1000);
      if (log.isLevelEnabled('info')) log.info({ requestId: id, method: req.method, route, status: res.statusCode, ms: Math.round(ms * 10) / 10 }, 'request');
    });
    next();
  };
}
