// Issue 19 item 1: every response in the served document has a schema, built from the zod schema
// that builds or checks it (never written twice) or, for a problem, from the codes the route names.
import { z } from 'zod';
import { PARSER_REFUSALS } from './parser-refusal.ts';

/** Headers partners read, documented once in components.headers and referenced by name. */
export type HeaderName = 'WWW-Authenticate' | 'Retry-After' | 'Transfer-Receipt' | 'RateLimit-Policy' | 'RateLimit-Remaining' | 'Location';

export interface ResponseSpec {
  description: string;
  /** The JSON body (application/json), output side of the zod schema. */
  json?: z.ZodType;
  /** Listed in components.schemas under this name (the generated client's type name). */
  name?: string;
  /** application/x-ndjson: the schema of one line. */
  ndjson?: z.ZodType;
  ndjsonName?: string;
  /** The same call answers application/jose (JWS inside JWE compact) when asked. */
  jose?: boolean;
  /** A non-JSON body: its media type(s) (text/html, text/plain, text/event-stream, ...). */
  media?: string | readonly string[];
  /** The media type `json` is sent as, when not application/json (e.g. application/jwk-set+json). */
  jsonType?: string;
  /** Problem codes this route answers with this status (CONTRACT 6), besides the generic ones. */
  codes?: readonly string[];
  headers?: readonly HeaderName[];
  /** Headers sent only sometimes (RateLimit-*: only under a rate limit). */
  optionalHeaders?: readonly HeaderName[];
  example?: unknown;
}

export const HEADERS: Record<HeaderName, { description: string; schema: object }> = {
  'WWW-Authenticate': { description: 'RFC 6750 / RFC 7617 challenge: Bearer realm="partner" (with error="invalid_token" when a token was presented), or Basic on /oauth/token', schema: { type: 'string', pattern: '^(Bearer|Basic) ' } },
  'Retry-After': { description: 'seconds to wait before asking again (RULES 44)', schema: { type: 'string', pattern: '^[0-9]+$' } },
  'Transfer-Receipt': { description: 'compact JWS (ES256, typ "transfer-receipt", kid in /.well-known/jwks.json) over this release\'s transfer log entry', schema: { type: 'string', pattern: '^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$' } },
  'RateLimit-Policy': { description: 'the agreement\'s rate limit: "<requests>;w=60" (a minute window)', schema: { type: 'string', pattern: '^[0-9]+;w=60$' } },
  'RateLimit-Remaining': { description: 'requests left in the current minute', schema: { type: 'string', pattern: '^[0-9]+$' } },
  Location: { description: 'where to go next', schema: { type: 'string' } },
};

/**
 * Codes any route may answer with a status (error-mapping.ts CODES, store and body limits), so a
 * route lists only its own.
 */
export const GENERIC_CODES: Record<number, readonly string[]> = {
  400: ['validation_failed'], 401: ['invalid_token'], 403: ['forbidden'], 404: ['not_found'], 405: ['method_not_allowed'],
  406: ['not_acceptable'], 413: ['payload_too_large'], 415: ['unsupported_media_type'], 429: ['rate_limited'],
  500: ['internal_error'], 503: ['store_unavailable'],
};

/**
 * Any operation may answer these (malformed request, body limits, a store outage, a bug): `default`.
 * With the codes of the listener's HTTP parser, answered before any route is known (parser-refusal.ts).
 */
export const DEFAULT_CODES = ['validation_failed', 'not_found', 'method_not_allowed', 'not_acceptable', 'payload_too_large', 'unsupported_media_type', 'internal_error', 'store_unavailable', ...Object.values(PARSER_REFUSALS).map((r) => r.code)] as const;

/**
 * The listener-wide answers of the HTTP parser (parser-refusal.ts), for any path, documented or not:
 * the document's `x-listener-responses`, each a problem with its one code.
 */
export function listenerResponses(problemRef: object): Record<string, object> {
  return Object.fromEntries(Object.entries(PARSER_REFUSALS).map(([status, r]) => [status, {
    description: `${r.code}: ${r.detail} (answered by the listener before any route; the connection closes)`,
    content: { 'application/problem+json': { schema: { allOf: [problemRef, { type: 'object', properties: { code: { enum: [r.code] }, status: { const: Number(status) } } }] } } },
  }]));
}

/** RFC 9457 body as errors.ts sendProblem writes it. */
export const problemSchema = z.object({
  type: z.string().describe('urn:partner-gateway:problem:<code>'),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().optional(),
  code: z.string().describe('machine-readable reason (CONTRACT 6)'),
  requestId: z.string().describe('quote it to the gateway\'s operator; the log line has it too'),
  errors: z.array(z.object({ field: z.string(), reason: z.string() })).optional().describe('validation_failed: the offending fields'),
}).loose();

/** zod → JSON Schema (2020-12, the dialect of OpenAPI 3.1), without the per-schema $schema. */
export function jsonSchema(schema: z.ZodType, io: 'input' | 'output' = 'output'): Record<string, unknown> {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  // A recursive schema would bring $defs whose #/$defs refs break once embedded in the document.
  if (rest.$defs) throw new Error('a documented schema must not be recursive ($defs)');
  return rest;
}

/**
 * Type-level drift checks for response schemas (no runtime cost, no parse on the request path):
 * `check<Fits<Built, z.infer<typeof schema>>>()` fails the typecheck when a value the builder can
 * return does not match its documented schema, `check<Same<keyof Built, keyof ...>>()` when either
 * side has a field the other lacks.
 */
export type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export type Fits<Built, Schema> = [Built] extends [Schema] ? true : false;
export const check = <T extends true>(): T => true as T;

/** Problem responses every role-guarded admin route answers (admin-auth.ts): codes, not prose. */
export const ROLE_ERRORS = {
  401: { description: 'invalid_token: no, an unknown, expired or revoked role token', codes: ['invalid_token'] },
  403: { description: 'forbidden: a partner token, or a role this route does not name', codes: ['forbidden'] },
} as const satisfies Record<number, ResponseSpec>;

/** A problem response with its codes listed (RFC 9457; CONTRACT 6). */
export const problem = (codes: readonly [string, ...string[]], description: string): ResponseSpec => ({ description: `${codes.join(' | ')}: ${description}`, codes });
