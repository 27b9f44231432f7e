// The reference core user store as an HTTPS service (CONTRACT 3). It is a real server, not a test
// double: the gateway's tests, demo and benchmarks talk to it over verified TLS like to a real store.
import express, { type NextFunction, type Request, type Response } from 'express';
import { createHttpsServer, listen } from '../tls/server.ts';
import { InvalidQueryError, parseLimit, parseUpdatedSince } from './query.ts';
import type { UserSource } from './source.ts';

const TITLES: Record<number, string> = { 400: 'Bad Request', 404: 'Not Found', 500: 'Internal Server Error' };

function problem(res: Response, status: number, code: string, extra: Record<string, unknown> = {}): void {
  const body = { type: 'about:blank', title: TITLES[status] ?? 'Error', status, ...extra, code };
  res.status(status).type('application/problem+json').send(JSON.stringify(body));
}

function invalid(res: Response, err: InvalidQueryError): void {
  problem(res, 400, 'validation_failed', {
    detail: err.message,
    errors: [{ parameter: err.parameter, detail: err.message }],
  });
}

/** A query parameter given twice arrives as an array; only a single string is meaningful. */
function single(req: Request, name: string): unknown {
  const value = (req.query as Record<string, unknown>)[name];
  if (value !== undefined && typeof value !== 'string') throw new InvalidQueryError(name, 'must be given once');
  return value;
}

export function createCoreStoreHandler(source: UserSource): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag'); // records change; a stale 304 would hide a withdrawn consent

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/users/:id', (req, res) => {
    const record = source.get(req.params.id);
    if (record === undefined) return problem(res, 404, 'not_found');
    res.json(record);
  });

  app.get('/users', (req, res) => {
    try {
      const limit = parseLimit(single(req, 'limit'));
      const updatedSince = parseUpdatedSince(single(req, 'updatedSince'));
      const cursor = single(req, 'cursor') as string | undefined;
      res.json(source.page({ limit, cursor: cursor ?? null, updatedSince }));
    } catch (err) {
      if (err instanceof InvalidQueryError) return invalid(res, err);
      throw err;
    }
  });

  app.use((_req: Request, res: Response) => problem(res, 404, 'not_found'));
  // Details of unexpected errors stay in the process; the client learns only that it failed.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof InvalidQueryError) return invalid(res, err);
    const status = (err as { status?: unknown }).status;
    if (status === 400) return problem(res, 400, 'validation_failed'); // e.g. bad %-encoding in the path
    problem(res, 500, 'internal_error');
  });
  return app;
}

export interface CoreStoreOptions {
  port: number;
  host: string;
  tls: { cert: string; key: string; ca?: string | null; requestClientCert?: boolean };
  source: UserSource;
}

export interface RunningCoreStore {
  port: number;
  close(): Promise<void>;
}

export async function startCoreStore(opts: CoreStoreOptions): Promise<RunningCoreStore> {
  const server = createHttpsServer(
    { cert: opts.tls.cert, key: opts.tls.key, ca: opts.tls.ca ?? null, requestClientCert: opts.tls.requestClientCert ?? false },
    createCoreStoreHandler(opts.source),
  );
  const port = await listen(server, opts.port, opts.host);
  return {
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Keep-alive clients (the gateway's undici pool) would otherwise hold close() open.
        server.closeAllConnections();
      }),
  };
}
