// The OpenAPI document is built from the same zod schemas that validate requests, as routes are
// declared (RULES 46: what is mounted is what is described).
import { z } from 'zod';
import { CORE_STORE_CROSS_BORDER_CONSENT } from './store-consent-doc.ts';
import { DEFAULT_CODES, GENERIC_CODES, HEADERS, jsonSchema, listenerResponses, problemSchema, type HeaderName, type ResponseSpec } from './openapi-responses.ts';

export type { ResponseSpec } from './openapi-responses.ts';

export interface RouteDoc {
  summary: string;
  /** Who may call it: a role, `partner`, or `public`. */
  auth: string;
  body?: z.ZodType;
  query?: z.ZodType;
  /** Issue 19: a typed spec; a bare string only for a body-less answer (204, 3xx) or a console page (text/html). */
  responses?: Record<string, string | ResponseSpec>;
}

type Op = Record<string, unknown>;

/** Statuses the shared body parsers and router give before a route runs (error-mapping.ts). */
const REFUSED_BEFORE_ROUTE = new Set([400, 413, 415]);

/** Which listener a document describes (RULES 43: each listener serves only its own routes). */
export type Listener = 'partner' | 'admin';

const LISTENERS: Record<Listener, string> = {
  partner: 'Partner listener (server.host:server.port, default 8443): /oauth/token, /v1/*, /.well-known/*, /healthz, /readyz. '
    + 'The control plane (/admin/*, /metrics, the /console staff console) is not served here; it has its own HTTPS listener and document.',
  admin: 'Control-plane listener (admin.host:admin.port, default 9443; staff mTLS with admin.tls.requireClientCert): '
    + '/admin/*, /metrics, /healthz, /readyz, role tokens only (partner tokens get 403); /console, the staff console (session cookie from POST /console/sign-in). '
    + 'The partner API (/oauth/token, /v1/*, /.well-known/*) is on the partner listener (default 8443) and its document.',
};

export class ApiDoc {
  private readonly paths: Record<string, Record<string, Op>> = {};
  private readonly schemas: Record<string, object> = {};
  /** Operations added so far (route-gate.ts recompiles when it changes). */
  revision = 0;

  constructor(private readonly listener: Listener = 'partner') {}

  add(method: string, expressPath: string, doc: RouteDoc): void {
    const path = expressPath.replace(/:([A-Za-z]+)/g, '{$1}');
    const params = [...expressPath.matchAll(/:([A-Za-z]+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    const query = doc.query ? queryParams(doc.query) : [];
    const op: Op = {
      summary: doc.summary,
      'x-auth': doc.auth,
      // Issue 16: console pages authenticate with the session cookie, not a bearer token.
      ...(doc.auth === 'public' ? { security: [] } : doc.auth.startsWith('console session') ? { security: [{ consoleSession: [] }] } : { security: [{ bearer: [] }] }),
      parameters: [...params, ...query],
      responses: {
        ...Object.fromEntries(Object.entries(doc.responses ?? { 200: 'OK' }).map(([status, r]) => [status, this.response(Number(status), r, path, doc.auth)])),
        default: this.response(0, { description: 'any other failure (RFC 9457 problem): a malformed request, a body limit, the store unavailable, an internal error', codes: DEFAULT_CODES }, path, doc.auth),
      },
    };
    if (doc.body) op.requestBody = { required: true, content: { 'application/json': { schema: z.toJSONSchema(doc.body, { io: 'input', unrepresentable: 'any' }) } } };
    (this.paths[path] ??= {})[method.toLowerCase()] = op;
    this.revision++;
  }

  /** Every documented operation, method upper-case (route-gate.ts: nothing else is answered). */
  operations(): Array<{ method: string; path: string }> {
    return Object.entries(this.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => ({ method: m.toUpperCase(), path })));
  }

  /** A named schema in components.schemas, referenced from wherever it is used. */
  private ref(name: string | undefined, schema: z.ZodType): object {
    const js = jsonSchema(schema);
    if (!name) return js;
    this.schemas[name] = js;
    return { $ref: `#/components/schemas/${name}` };
  }

  private response(status: number, r: string | ResponseSpec, path: string, auth: string): Op {
    const spec: ResponseSpec = typeof r === 'string' ? { description: r } : r;
    const console = path.startsWith('/console') || auth.startsWith('console session');
    const content: Record<string, object> = {};
    const example = spec.example === undefined ? {} : { example: spec.example };
    if (spec.json) content[spec.jsonType ?? 'application/json'] = { schema: this.ref(spec.name, spec.json), ...example };
    if (spec.ndjson) content['application/x-ndjson'] = { schema: { ...this.ref(spec.ndjsonName, spec.ndjson), description: 'one JSON value a line' } };
    if (spec.jose) content['application/jose'] = { schema: { type: 'string', description: 'JWE compact (ECDH-ES+A256KW for an EC key, RSA-OAEP-256 for an RSA key; A256GCM) to the partner\'s use:"enc" key, whose plaintext is a compact JWS (ES256, kid in /.well-known/jwks.json) of the JSON body', pattern: '^[A-Za-z0-9_-]*(\\.[A-Za-z0-9_-]*){4}$' } };
    const typed = spec.json || spec.ndjson || spec.media;
    // Console pages, and every 4xx the console answers (console/router.ts errorPage), are HTML.
    const html = console && !typed && (status === 0 || status === 200 || status === 201 || (status >= 400 && status < 500) || spec.description.startsWith('text/html'));
    for (const m of typeof spec.media === 'string' ? [spec.media] : spec.media ?? []) content[m] = { schema: { type: 'string' } };
    if (html) content['text/html'] = { schema: { type: 'string' } };
    // RFC 9457: a problem body with the route's own codes plus those any route answers with this
    // status. Issue 19: the codes come from the spec, never from its prose; a route that forgets
    // them fails at start (and so every test), not silently in the document.
    // A typed error body that listed codes too is either (e.g. /oauth/token 400: RFC 6749 JSON, or a
    // body the parser refused as problem+json validation_failed).
    const problemBody = (typed && spec.codes !== undefined) || (!typed && (status === 0 || (status >= 400 && !(console && status < 500) && !spec.description.startsWith('text/html'))));
    // A console 4xx is a page, unless the listener refused the request before the console read it
    // (a malformed body or %-escape, a body limit: app.ts body parsers, errors.ts): then it is the
    // listener's problem+json with the generic code of that status (found by the route fuzzer).
    const refusedBeforeConsole = console && html && REFUSED_BEFORE_ROUTE.has(status);
    if (problemBody || refusedBeforeConsole) {
      if (status !== 0 && !spec.codes && !refusedBeforeConsole) throw new Error(`OpenAPI: ${path} ${status}: an error response lists its problem codes (issue 19)`);
      const codes = [...new Set([...(spec.codes ?? []), ...(GENERIC_CODES[status] ?? [])])].sort();
      content['application/problem+json'] = {
        schema: { allOf: [this.ref('Problem', problemSchema), { type: 'object', properties: { code: { enum: codes }, ...(status ? { status: { const: status } } : {}) } }] },
      };
    }
    const required = new Set<HeaderName>(spec.headers ?? []);
    if (status === 401 && !console) required.add('WWW-Authenticate');
    if (status === 429) required.add('Retry-After');
    if (status >= 300 && status < 400) required.add('Location');
    const headers = Object.fromEntries([
      ...[...required].map((h) => [h, { $ref: `#/components/headers/${h}`, required: true }]),
      ...(spec.optionalHeaders ?? []).map((h) => [h, { $ref: `#/components/headers/${h}` }]),
    ]);
    return {
      description: spec.description,
      ...(Object.keys(headers).length ? { headers } : {}),
      ...(Object.keys(content).length ? { content } : {}),
    };
  }

  json(): object {
    // CONTRACT 6: the parser's refusals (431, a malformed request) are problem+json on every path.
    const listenerWide = listenerResponses(this.ref('Problem', problemSchema));
    return {
      openapi: '3.1.0',
      info: {
        title: `partner-gateway (${this.listener} listener)`, version: '1',
        description: `Partner data sharing under the privacy policy, partner agreements and user choices. ${LISTENERS[this.listener]}`,
      },
      'x-listener': this.listener,
      'x-listener-responses': listenerWide,
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          ...(this.listener === 'admin' ? { consoleSession: { type: 'apiKey', in: 'cookie', name: '__Host-pg-console', description: 'console session (issue 16): set by POST /console/sign-in' } } : {}),
        },
        schemas: { ...this.schemas, CoreStoreCrossBorderConsent: CORE_STORE_CROSS_BORDER_CONSENT },
        headers: HEADERS,
      },
      paths: this.paths,
    };
  }
}

function queryParams(schema: z.ZodType): object[] {
  const js = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, object>; required?: string[] };
  return Object.entries(js.properties ?? {}).map(([name, s]) => ({ name, in: 'query', required: js.required?.includes(name) ?? false, schema: s }));
}
