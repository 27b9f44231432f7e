// RULES 37: HSTS two years with subdomains; the rest of helmet's defaults suit an API too.
// Issue 17 item 4: helmet builds the same headers for every request through a dozen middleware
// calls. They depend on nothing in the request, so helmet runs once, at start, and each request
// gets its output as a fixed list: exactly helmet's headers, for a fraction of the CPU.
import helmet from 'helmet';
import type { RequestHandler } from 'express';

export const HELMET_OPTIONS = { strictTransportSecurity: { maxAge: 63072000, includeSubDomains: true, preload: false } } as const;

/** The headers helmet sets with `options`, captured by running it once against a recording response. */
export function helmetHeaders(options: Parameters<typeof helmet>[0] = HELMET_OPTIONS): Array<[string, string]> {
  const headers: Array<[string, string]> = [];
  const res = {
    setHeader: (name: string, value: unknown) => { headers.push([name, String(value)]); },
    removeHeader: () => undefined, // X-Powered-By: the apps disable it (app.disable('x-powered-by'))
  };
  let done = false;
  helmet(options)({} as never, res as never, (err?: unknown) => {
    if (err) throw err;
    done = true;
  });
  // helmet's middleware is synchronous; anything else would need a request and cannot be fixed.
  if (!done) throw new Error('helmet did not finish synchronously: its headers cannot be fixed at start');
  return headers;
}

export function securityHeaders(options?: Parameters<typeof helmet>[0]): RequestHandler {
  const headers = helmetHeaders(options);
  return (_req, res, next) => {
    for (const [name, value] of headers) res.setHeader(name, value);
    next();
  };
}
