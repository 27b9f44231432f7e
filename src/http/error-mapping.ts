// Which problem an error becomes (RFC 9457). Issue [1/6] item 3: errors that body-parser, the
// router or http-errors mark with a 4xx status keep it — a bad %-escape in a path, a body declared
// gzip that is not, an aborted upload — instead of turning into a 500.
import { Problem, validationFailed } from './problem.ts';

const CODES: Record<number, string> = {
  400: 'validation_failed', 401: 'invalid_token', 403: 'forbidden', 404: 'not_found', 405: 'method_not_allowed',
  406: 'not_acceptable', 413: 'payload_too_large', 415: 'unsupported_media_type', 429: 'rate_limited',
};

interface HttpishError { status?: unknown; statusCode?: unknown; type?: unknown; code?: unknown; limit?: unknown }

function clientStatus(e: HttpishError): number | null {
  const s = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : NaN;
  return Number.isInteger(s) && s >= 400 && s < 500 ? s : null;
}

export function toProblem(err: unknown): Problem {
  if (err instanceof Problem) return err;
  const e = (err ?? {}) as HttpishError;
  if (e.type === 'entity.too.large') return new Problem({ status: 413, code: 'payload_too_large', detail: `request body larger than ${Number(e.limit)} bytes` });
  if (e.type === 'entity.parse.failed') return validationFailed([{ field: 'body', reason: 'not valid JSON' }]);
  if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported') {
    return new Problem({ status: 415, code: 'unsupported_media_type', detail: 'unsupported body encoding' });
  }
  const status = clientStatus(e);
  if (status === null) return new Problem({ status: 500, code: 'internal_error', detail: 'internal error' });
  // Never echo the error's message: it quotes the request (the router's names the raw segment).
  if (err instanceof URIError) return validationFailed([{ field: 'path', reason: 'malformed percent-encoding' }]);
  if (typeof e.code === 'string' && e.code.startsWith('Z_')) {
    return validationFailed([{ field: 'body', reason: 'does not match its Content-Encoding' }]);
  }
  if (status === 400) return validationFailed([{ field: 'request', reason: 'malformed request' }]);
  return new Problem({ status, code: CODES[status] ?? 'bad_request', detail: 'the request was refused' });
}

/**
 * What of an unexpected error may be logged (RULES 24): its class and where it was thrown, never its
 * message, which may quote a path, query or body value.
 */
export function loggableError(err: unknown): { name: string; code?: string; at: string[] } | undefined {
  if (!(err instanceof Error)) return undefined;
  const at = (err.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l)).slice(0, 8).map((l) => l.trim());
  const code = typeof (err as HttpishError).code === 'string' ? String((err as HttpishError).code) : undefined;
  return { name: err.name, ...(code ? { code } : {}), at };
}
