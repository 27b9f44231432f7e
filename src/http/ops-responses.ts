// Issue 19 item 1: the ops answers (CONTRACT 8) as zod schemas, for the served documents.
import { z } from 'zod';

export const health = z.object({ status: z.literal('ok') });

export const readiness = z.object({
  status: z.enum(['ready', 'not_ready']),
  checks: z.object({
    redis: z.enum(['ok', 'down']), upstream: z.enum(['ok', 'down']), policyCaches: z.enum(['ok', 'loading']),
    certificates: z.enum(['ok', 'expiring_soon']), incidents: z.enum(['none', 'open', 'unknown']),
    workers: z.string().regex(/^(\d+\/\d+|unknown)$/).optional().describe('"ready/total" with serve --workers N'),
  }),
  openIncidents: z.number().int().optional(),
  certificatesExpiringSoon: z.array(z.object({ setting: z.string(), daysLeft: z.number().int(), notAfter: z.string() })).optional(),
});

export const openApiDocument = z.object({ openapi: z.literal('3.1.0'), info: z.object({ title: z.string(), version: z.string() }).loose(), paths: z.record(z.string(), z.unknown()) }).loose();
