// Every request gets an id that the response header, the problem body and the log line share.
import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from '../log.ts';

const SAFE_ID = /^[A-Za-z0-9._-]{8,64}$/;

export function requestIds(log: Logger): RequestHandler {
  return (req, res, next) => {
    const incoming = req.get('x-request-id');
    const id = incoming && SAFE_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader('x-request-id', id);
    res.locals.requestId = id;
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      // The route template, never the URL: paths carry pseudonyms and queries carry filters.
      const route = req.route?.path ? `${req.baseUrl}${req.route.path}` : 'unmatched';
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      log.info({ requestId: id, method: req.method, route, status: res.statusCode, ms: Math.round(ms * 10) / 10 }, 'request');
    });
    next();
  };
}
