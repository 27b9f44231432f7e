// Issue 19 item 2: every response an end-to-end test receives from the gateway is checked against
// the served OpenAPI document of its listener: the status is documented for the route (or by its
// `default`), the media type is one the status lists, the required headers are there and match,
// and the body (each line of an NDJSON stream) matches the schema. The check sits in the undici
// dispatcher the tests already use (stack.client), so every existing test gets it unchanged.
// A mismatch fails the body read of the test that received it, and stack.close() (so a test that
// never read the body still fails its file).
import { Agent, type Dispatcher } from 'undici';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsPlugin from 'ajv-formats';
import type { ValidateFunction } from 'ajv';
import { routePattern } from '../../src/http/route-gate.ts';

// ajv-formats is CommonJS with a default export; under NodeNext its callable is the module itself.
const addFormats = addFormatsPlugin as unknown as (ajv: Ajv2020) => Ajv2020;

interface MediaDoc { schema?: object }
interface ResponseDoc { content?: Record<string, MediaDoc>; headers?: Record<string, { $ref?: string; required?: boolean; schema?: object }> }
export interface OpenApiDoc {
  paths: Record<string, Record<string, { responses?: Record<string, ResponseDoc> }>>;
  /** The listener's own answers before any route (parser-refusal.ts: 400, 408, 431), on any path. */
  'x-listener-responses'?: Record<string, ResponseDoc>;
  components?: { headers?: Record<string, { schema?: object }> };
}

const esc = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

/** The documented contract of one listener, compiled lazily per (route, status, media type). */
export class DocumentedResponses {
  private readonly ajv = addFormats(new Ajv2020({ strict: false, allErrors: false, validateSchema: false }));
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly routes: Array<{ path: string; re: RegExp }>;

  constructor(private readonly id: string, private readonly doc: OpenApiDoc) {
    this.ajv.addSchema(doc as object, this.id); // a URN: ajv resolves #/pointers under it
    // Literal paths first, so /admin/v1/transfers/stream is not taken for /admin/v1/transfers/{id}.
    // One trailing slash is the same route, as for express's (non-strict) router: the gateway's
    // route gate's own pattern (src/http/route-gate.ts).
    this.routes = Object.keys(doc.paths)
      .map((path) => ({ path, params: (path.match(/\{/g) ?? []).length, re: new RegExp(`^${routePattern(path)}$`) }))
      .sort((a, b) => a.params - b.params);
  }

  private validator(pointer: string): ValidateFunction {
    let v = this.compiled.get(pointer);
    if (!v) {
      v = this.ajv.getSchema(`${this.id}#${pointer}`);
      if (!v) throw new Error(`no schema at ${pointer}`);
      this.compiled.set(pointer, v);
    }
    return v;
  }

  /** null when the response matches its documentation, else what is wrong (no body values quoted). */
  check(method: string, rawPath: string, status: number, headers: Record<string, string>, body: Buffer): string | null {
    const path = rawPath.split('?')[0]!;
    // RFC 9110 9.3.2: HEAD answers as GET does (status, headers), without the content.
    const m = method === 'HEAD' ? 'get' : method.toLowerCase();
    const route = this.routes.find((r) => r.re.test(path) && this.doc.paths[r.path]![m]);
    // The listener's HTTP parser answers before any route is known, on any path (documented or
    // not): such an answer matches the document's x-listener-responses (their codes only).
    const listener = this.doc['x-listener-responses']?.[String(status)];
    if (listener && this.checkResponse('', '/x-listener-responses', String(status), listener, method, status, headers, body) === null) return null;
    // Not a documented operation (an unknown route, or a method it does not have): a 404 problem.
    const opPointer = route ? `/paths/${esc(route.path)}/${m}` : null;
    const where = route ? `${method} ${route.path}` : `${method} (undocumented route)`;
    const responses = route ? this.doc.paths[route.path]![m]!.responses ?? {} : null;
    if (!responses) return status === 404 && (headers['content-type'] ?? '').startsWith('application/problem+json') ? null : `${where}: ${status} from a route not in the document`;
    const key = responses[String(status)] ? String(status) : responses.default && status >= 400 ? 'default' : null;
    if (!key) return `${where}: status ${status} is not documented`;
    return this.checkResponse(where, `${opPointer}/responses`, key, responses[key]!, method, status, headers, body);
  }

  /** One documented response (`base`/`key` points at it in the document) against what arrived. */
  private checkResponse(where: string, base: string, key: string, r: ResponseDoc, method: string, status: number, headers: Record<string, string>, body: Buffer): string | null {
    for (const [name, h] of Object.entries(r.headers ?? {})) {
      const value = headers[name.toLowerCase()];
      if (value === undefined) {
        if (h.required) return `${where} ${status}: required header ${name} missing`;
        continue;
      }
      const hp = h.$ref ? `/components/headers/${esc(h.$ref.split('/').pop()!)}/schema` : `${base}/${key}/headers/${esc(name)}/schema`;
      if (!this.validator(hp)(value)) return `${where} ${status}: header ${name} does not match its schema`;
    }
    if (!r.content || method === 'HEAD' || status === 204 || status === 304) return null;
    const media = (headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (!r.content[media]) return `${where} ${status}: content type ${media || '(none)'} not documented (documented: ${Object.keys(r.content).join(', ')})`;
    if (!r.content[media]!.schema) return null;
    const validate = this.validator(`${base}/${key}/content/${esc(media)}/schema`);
    const text = body.toString('utf8');
    const values: unknown[] = [];
    try {
      if (media === 'application/x-ndjson') values.push(...text.split('\n').filter(Boolean).map((l) => JSON.parse(l)));
      else if (media.endsWith('json')) values.push(JSON.parse(text));
      else values.push(text);
    } catch {
      return `${where} ${status}: ${media} body does not parse`;
    }
    for (const [i, v] of values.entries()) {
      if (!validate(v)) {
        const errs = (validate.errors ?? []).slice(0, 3).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`).join('; ');
        return `${where} ${status} ${media}${values.length > 1 ? ` line ${i + 1}` : ''}: ${errs}`;
      }
    }
    return null;
  }
}

export class ResponseMismatch extends Error {
  override name = 'ResponseMismatch';
}

type OldHandler = Dispatcher.DispatchHandler & {
  onHeaders?(status: number, raw: Buffer[], resume: () => void, text: string): boolean;
  onData?(chunk: Buffer): boolean;
  onComplete?(trailers: string[] | null): void;
  onError?(err: Error): void;
};

/**
 * An undici Agent that checks each complete response from a listed origin. Streams the caller
 * aborts (a dropped connection, an SSE feed) are not checked: only what arrived whole is judged.
 */
export class CheckedAgent extends Agent {
  /** Mismatches seen; stack.close() fails on any, so even an unread body cannot hide one. */
  readonly mismatches: string[] = [];
  private readonly contracts = new Map<string, DocumentedResponses>();

  /** Check responses from `origin` (e.g. https://localhost:1234) against `doc`. */
  expect(origin: string, doc: OpenApiDoc): void {
    this.contracts.set(new URL(origin).origin, new DocumentedResponses(`urn:openapi:${this.contracts.size}`, doc));
  }

  override dispatch(opts: Agent.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const origin = opts.origin ? new URL(String(opts.origin)).origin : '';
    const contract = this.contracts.get(origin);
    const h = handler as OldHandler;
    // undici's fetch and request hand over old-style handlers; anything else passes unchecked.
    if (!contract || !h.onHeaders || (h as { onRequestStart?: unknown }).onRequestStart) return super.dispatch(opts, handler);
    let status = 0;
    const headers: Record<string, string> = {};
    const chunks: Buffer[] = [];
    const overrides: Record<string, unknown> = {
      onHeaders: (s: number, raw: Buffer[], resume: () => void, text: string) => {
        status = s;
        for (let i = 0; i + 1 < raw.length; i += 2) headers[raw[i]!.toString('latin1').toLowerCase()] = raw[i + 1]!.toString('latin1');
        return h.onHeaders!.call(h, s, raw, resume, text);
      },
      onData: (chunk: Buffer) => {
        chunks.push(Buffer.from(chunk));
        return h.onData!.call(h, chunk);
      },
      onComplete: (trailers: string[] | null) => {
        let problem: string | null;
        try {
          problem = contract.check(opts.method, opts.path, status, headers, Buffer.concat(chunks));
        } catch (e) {
          problem = `the check itself failed: ${(e as Error).message}`; // never a hang, never a pass
        }
        if (!problem) return h.onComplete!.call(h, trailers);
        this.mismatches.push(problem);
        // Outside the parser's callback: fetch then errors the body the test reads (its cause names it).
        const err = new ResponseMismatch(`response does not match the served OpenAPI document: ${problem}`);
        setImmediate(() => h.onError!.call(h, err));
      },
    };
    // Everything else (onConnect, onError, onUpgrade, ...) goes to the caller's handler as is.
    const wrapped = new Proxy(h, {
      get(target, prop) {
        if (typeof prop === 'string' && prop in overrides) return overrides[prop];
        const v = (target as unknown as Record<string | symbol, unknown>)[prop];
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    return super.dispatch(opts, wrapped);
  }
}
