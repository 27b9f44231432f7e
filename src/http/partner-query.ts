// Query parameters of the partner routes, validated with the schemas the OpenAPI document shows.
// Bad input is a 400 validation_failed naming the parameter (CONTRACT 6 "Other codes").
import { z } from 'zod';
import { PURPOSE_IDS, type Purpose } from '../policy/taxonomy.ts';
import { parseBody } from './field-errors.ts';

const purpose = z.enum(PURPOSE_IDS as [Purpose, ...Purpose[]], { message: `must be one of ${PURPOSE_IDS.join(', ')}` });
const limit = z.string().regex(/^[1-9][0-9]{0,8}$/, 'must be a positive integer').transform(Number);

export const subjectQuery = z.strictObject({ purpose });

export function bulkQuerySchema(maxPageSize: number) {
  return z.strictObject({
    purpose,
    limit: limit.optional(),
    cursor: z.string().max(1024).optional()
      .describe('the nextCursor of the previous page, unchanged; opaque, valid only for this partner and purpose, for limits.cursorTtlSeconds (else 400 validation_failed naming cursor: start again without one)'),
    updatedSince: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time with a zone' }).optional(),
  }).describe(`limit: at most ${maxPageSize} for a JSON page; any number (or none: all) for application/x-ndjson`);
}

export function parseQuery<S extends z.ZodType>(schema: S, query: unknown): z.output<S> {
  // Repeated parameters arrive as arrays: refuse them rather than pick one.
  return parseBody(schema, query, (_p, k) => `unknown parameter ${k}`);
}
