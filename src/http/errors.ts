// The one place errors become problem+json (RFC 9457). 5xx bodies carry only the request id.
import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { Problem } from './problem.ts';
import type { Logger } from '../log.ts';
import { toProblem, loggableError } from './error-mapping.ts';

// 503s whose detail says only which dependency is away (no internals): the client may retry.
const EXPOSED_5XX = new Set(['upstream_unavailable', 'audit_unavailable', 'store_unavailable', 'verify_in_progress']);

export function sendProblem(res: Response, p: Problem, requestId: string): void {
  for (const [k, v] of Object.entries(p.headers)) res.setHeader(k, v);
  const expose = p.status < 500 || EXPOSED_5XX.has(p.code);
  const body = {
    type: `urn:partner-gateway:problem:${p.code}`,
    title: p.title,
    status: p.status,
    // A 5xx detail may describe internals: the client gets the request id, the log the rest.
    detail: expose ? p.message : `internal error; quote request id ${requestId}`,
    code: p.code,
    requestId,
    ...(p.status < 500 ? p.extra : {}),
  };
  res.status(p.status).type('application/problem+json').send(JSON.stringify(body));
}

export const notFound: RequestHandler = (_req, _res, next) => {
  next(new Problem({ status: 404, code: 'not_found', detail: 'no such route' }));
};

/** Turn any error into problem+json; log 5xx with the route pattern and request id only (RULES 24). */
export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const requestId = String(res.getHeader('x-request-id') ?? '');
    const p = toProblem(err);
    if (p.status >= 500) {
      const route = req.route?.path ? `${req.baseUrl}${req.route.path}` : 'unmatched';
      log.error({ requestId, code: p.code, route, err: loggableError(err) }, 'request failed');
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendProblem(res, p, requestId);
  };
}
