// RULES 46: the served document is the inventory, also for what a request meets first. A request
// for an operation the listener's document does not list (an unknown path, or a method the path
// does not have) is 404 not_found before anything else reads it: no body parser (400/413/415), no
// role guard (401/403), no console Origin check, no express OPTIONS answer. Found by the route
// fuzzer under the OpenAPI response check, which expects exactly this 404 for such requests.
import type { RequestHandler } from 'express';
import { Problem } from './problem.ts';

/** The operations of one listener's document: OpenAPI path templates (`/v1/subjects/{subject}`). */
export interface DocumentedOperations {
  /** Grows with each operation added: the gate recompiles only then (not per request). */
  readonly revision: number;
  operations(): ReadonlyArray<{ method: string; path: string }>;
}

const escape = (s: string) => s.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
/** A template as express matches it: each `{param}` one non-empty segment, one trailing slash optional. */
export const routePattern = (template: string) => `${escape(template.replace(/(.)\/$/, '$1')).replace(/\\?\{[^}]+\\?\}/g, '[^/]+')}/?`;

export function documentedOnly(doc: DocumentedOperations): RequestHandler {
  // Compiled on the first request, once every router has added its routes (app.ts builds them all
  // before the listener starts); rebuilt if the document grows later.
  let built = -1;
  let byMethod = new Map<string, RegExp>();
  const compile = () => {
    if (doc.revision === built) return;
    const ops = doc.operations();
    const groups = new Map<string, string[]>();
    for (const op of ops) (groups.get(op.method) ?? groups.set(op.method, []).get(op.method)!).push(routePattern(op.path));
    byMethod = new Map([...groups].map(([m, ps]) => [m, new RegExp(`^(?:${ps.join('|')})$`)]));
    built = doc.revision;
  };
  return (req, _res, next) => {
    compile();
    // RFC 9110 9.3.2: HEAD is GET without the content; express answers it from the GET route.
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    if (byMethod.get(method)?.test(req.path)) return next();
    next(new Problem({ status: 404, code: 'not_found', detail: 'no such route' }));
  };
}
