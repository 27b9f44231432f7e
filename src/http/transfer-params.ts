// Query parameters of the auditor routes (CONTRACT 5): the zod schemas document and type-check
// them; the transfer log's own filter compiler then checks the values (time format, id syntax).
// Both sets of problems go into one 400 validation_failed naming every bad parameter.
import type { Request } from 'express';
import { z } from 'zod';
import { PURPOSE_IDS } from '../policy/taxonomy.ts';
import type { TransferFilter } from '../transfer-log/index.ts';
import { isExclusiveBound } from '../redis/stream-id.ts';
import { CURSOR_HINT, CURSOR_PATTERN } from './cursor-param.ts';
import { dedupe, fieldErrors } from './field-errors.ts';
import { Problem, validationFailed, type FieldError } from './problem.ts';

const FILTER_KEYS = ['partnerId', 'purpose', 'decision', 'subject', 'from', 'to'] as const;

const filterShape = {
  partnerId: z.string().optional().describe('entries of this partner'),
  purpose: z.enum(PURPOSE_IDS).optional(),
  decision: z.enum(['released', 'denied']).optional(),
  subject: z.string().optional().describe('a user id: compared by its subjectRef on the server, never stored'),
  from: z.string().optional().describe('ISO 8601 date-time, inclusive (the entry\'s `at`)'),
  to: z.string().optional().describe('ISO 8601 date-time, exclusive'),
};

export const filterQuery = z.strictObject(filterShape);
export const listQuery = z.strictObject({
  ...filterShape,
  limit: z.coerce.number().int().min(1).max(1000).optional().describe('page size, default 100'),
  cursor: z.string().regex(CURSOR_PATTERN, CURSOR_HINT).optional()
    .describe('the nextCursor of the previous page, with the same filter (a cursor is refused with another filter or once older than limits.cursorTtlSeconds)'),
});
export const noQuery = z.strictObject({});

/** Parse `query` with `schema`, then let `compile` (the log's filter compiler) check the filter. */
export function parseTransferQuery<S extends z.ZodType>(schema: S, query: unknown, compile: (f: TransferFilter) => unknown): { params: z.output<S>; filter: TransferFilter } {
  const q = (query ?? {}) as Record<string, unknown>;
  const r = schema.safeParse(q);
  const errors: FieldError[] = r.success ? [] : fieldErrors(r.error.issues);
  const bad = new Set(errors.map((e) => e.field));
  const filter: TransferFilter = {};
  for (const k of FILTER_KEYS) {
    const v = q[k];
    if (typeof v === 'string' && !bad.has(k)) filter[k] = v;
  }
  try {
    compile(filter);
  } catch (e) {
    if (!(e instanceof Problem) || !Array.isArray(e.extra.errors)) throw e;
    errors.push(...(e.extra.errors as FieldError[]));
  }
  if (errors.length || !r.success) throw validationFailed(dedupe(errors));
  return { params: r.data, filter };
}

/** SSE resume point (the `id:` of the last event the client got), or null for "from now". */
export function lastEventId(req: Request): string | null {
  const v = req.get('last-event-id');
  if (v === undefined || v === '') return null;
  // Issue [1/6] item 3: a 64-bit stream id that can resume after it, checked before Redis sees it.
  if (!isExclusiveBound(v, 'after')) throw validationFailed([{ field: 'Last-Event-ID', reason: 'must be the id of an event of this stream' }]);
  return v;
}

/**
 * What a transfers cursor is bound to (DESIGN 9): the whole filter, so a cursor walked under one
 * filter is refused under another rather than silently skipping or repeating entries.
 */
export function filterBinding(f: TransferFilter): string[] {
  return [JSON.stringify(FILTER_KEYS.map((k) => f[k] ?? null))];
}
