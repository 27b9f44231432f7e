// RFC 9457 problem details: every error leaves the gateway as application/problem+json.
export interface ProblemInit {
  status: number;
  code: string;
  detail?: string;
  title?: string;
  /** Extra members, e.g. `errors` for validation_failed. */
  extra?: Record<string, unknown>;
  headers?: Record<string, string>;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  406: 'Not Acceptable', 409: 'Conflict', 413: 'Payload Too Large', 415: 'Unsupported Media Type',
  429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable',
};

export class Problem extends Error {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly extra: Record<string, unknown>;
  readonly headers: Record<string, string>;
  constructor(init: ProblemInit) {
    super(init.detail ?? init.code);
    this.status = init.status;
    this.code = init.code;
    this.title = init.title ?? TITLES[init.status] ?? 'Error';
    this.extra = init.extra ?? {};
    this.headers = init.headers ?? {};
  }
}

export interface FieldError { field: string; reason: string }

export const validationFailed = (errors: FieldError[]) =>
  new Problem({
    status: 400,
    code: 'validation_failed',
    detail: errors.map((e) => `${e.field}: ${e.reason}`).join('; '),
    extra: { errors },
  });

/** A policy decision against the caller (CONTRACT 6): 403 unless the code says otherwise. */
export class Denied extends Problem {
  constructor(code: string, detail: string, status = 403) {
    // RFC 6750 §3: a 401 carries the Bearer challenge, also when the decision refuses the token (it
    // was revoked or expired after authentication, RULES 41), as partner-auth.ts does before it.
    super({ status, code, detail, ...(status === 401 ? { headers: { 'WWW-Authenticate': 'Bearer realm="partner", error="invalid_token"' } } : {}) });
  }
}

export const upstreamUnavailable = () =>
  new Problem({ status: 503, code: 'upstream_unavailable', detail: 'the core user store is unreachable' });
export const redisUnavailable = () =>
  new Problem({ status: 503, code: 'store_unavailable', detail: 'the gateway store is unreachable' });
/** The in-memory agreements are (re)loading: unsure, so refuse rather than guess (DESIGN 1). */
export const agreementsReloading = () =>
  new Problem({ status: 503, code: 'store_unavailable', detail: 'agreements are reloading; retry shortly' });
