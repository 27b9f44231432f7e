// The OpenAPI document is built from the same zod schemas that validate requests, as routes are
// declared (RULES 46: what is mounted is what is described).
import { z } from 'zod';
import { CORE_STORE_CROSS_BORDER_CONSENT } from './store-consent-doc.ts';

export interface RouteDoc {
  summary: string;
  /** Who may call it: a role, `partner`, or `public`. */
  auth: string;
  body?: z.ZodType;
  query?: z.ZodType;
  responses?: Record<string, string>;
}

type Op = Record<string, unknown>;

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
      responses: Object.fromEntries(
        Object.entries(doc.responses ?? { 200: 'OK' }).map(([code, description]) => [code, { description }]),
      ),
    };
    if (doc.body) op.requestBody = { required: true, content: { 'application/json': { schema: z.toJSONSchema(doc.body, { io: 'input', unrepresentable: 'any' }) } } };
    (this.paths[path] ??= {})[method.toLowerCase()] = op;
  }

  json(): object {
    return {
      openapi: '3.1.0',
      info: {
        title: `partner-gateway (${this.listener} listener)`, version: '1',
        description: `Partner data sharing under the privacy policy, partner agreements and user choices. ${LISTENERS[this.listener]}`,
      },
      'x-listener': this.listener,
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          ...(this.listener === 'admin' ? { consoleSession: { type: 'apiKey', in: 'cookie', name: '__Host-pg-console', description: 'console session (issue 16): set by POST /console/sign-in' } } : {}),
        },
        schemas: { Problem: PROBLEM_SCHEMA, CoreStoreCrossBorderConsent: CORE_STORE_CROSS_BORDER_CONSENT },
      },
      paths: this.paths,
    };
  }
}

function queryParams(schema: z.ZodType): object[] {
  const js = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, object>; required?: string[] };
  return Object.entries(js.properties ?? {}).map(([name, s]) => ({ name, in: 'query', required: js.required?.includes(name) ?? false, schema: s }));
}

const PROBLEM_SCHEMA = {
  type: 'object',
  description: 'RFC 9457 problem details',
  properties: {
    type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' },
    detail: { type: 'string' }, code: { type: 'string' }, requestId: { type: 'string' },
    errors: { type: 'array', items: { type: 'object', properties: { field: { type: 'string' }, reason: { type: 'string' } } } },
  },
  required: ['type', 'title', 'status', 'code'],
};
