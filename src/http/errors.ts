// The one place errors become problem+json (RFC 9457). 5xx bodies carry only the request id.
import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { Problem } from './problem.ts';
import type { Logger } from '../log.ts';

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

/** Map body-parser and unknown errors to problems; log 5xx with the request id. */
export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const requestId = String(res.getHeader('x-request-id') ?? '');
    let p: Problem;
    if (err instanceof Problem) p = err;
    else if (err?.type === 'entity.too.large') p = new Problem({ status: 413, code: 'payload_too_large', detail: `request body larger than ${err.limit} bytes` });
    else if (err?.type === 'entity.parse.failed') {
      p = new Problem({ status: 400, code: 'validation_failed', detail: 'body: not valid JSON', extra: { errors: [{ field: 'body', reason: 'not valid JSON' }] } });
    } else if (err?.type === 'encoding.unsupported' || err?.type === 'charset.unsupported') {
      p = new Problem({ status: 415, code: 'unsupported_media_type', detail: 'unsupported body encoding' });
    } else if (err instanceof URIError && (err as { status?: number }).status === 400) {
      // The router could not percent-decode a path parameter: bad input, not a fault (issue [1/6]
      // item 3), and its message (which quotes the raw path) is never logged or echoed (RULES 24).
      p = new Problem({ status: 400, code: 'validation_failed', detail: 'path: not valid percent-encoding', extra: { errors: [{ field: 'path', reason: 'not valid percent-encoding' }] } });
    } else p = new Problem({ status: 500, code: 'internal_error', detail: 'internal error' });
    if (p.status >= 500) log.error({ requestId, code: p.code, err: err instanceof Error ? { name: err.name, message: err.message } : undefined, route: req.route?.path }, 'request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendProblem(res, p, requestId);
  };
}
