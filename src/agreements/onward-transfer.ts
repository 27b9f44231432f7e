// RULES 19 (onward transfer declared) and RULES 15 (every country where the partner or its
// sub-processors process data is declared): the optional `subProcessors` list of an agreement, the
// checks across it and the rest of the body, and what a new version adds over the one in force,
// which decides whether the new version waits for a second admin's review.
import { z } from 'zod';
import { PURPOSE_IDS } from '../policy/taxonomy.ts';
import { isCountryCode } from '../config/countries.ts';
import type { FieldError } from '../http/problem.ts';

export interface SubProcessor { name: string; country: string; purpose: string }

export const SUB_PROCESSORS_MAX = 100;

export const subProcessorsSchema = z.array(z.strictObject({
  name: z.string({ error: 'required' }).trim().min(1, 'required').max(200),
  country: z.string({ error: 'required' }).refine(isCountryCode, 'must be an ISO 3166-1 alpha-2 country code'),
  purpose: z.enum(PURPOSE_IDS as unknown as [string, ...string[]], { error: 'must be a purpose of the privacy policy (CONTRACT 2)' }),
}), { error: 'must be a list of {name, country, purpose}' }).max(SUB_PROCESSORS_MAX, `at most ${SUB_PROCESSORS_MAX} sub-processors`)
  .describe('RULES 15, 19: who else processes the data, where and for which purpose; each country must also be in processingCountries, '
    + 'each purpose in purposes. Adding one (or a processing country) over the version in force needs a second admin\'s approval');

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** RULES 15: a sub-processor's country and purpose are the agreement's own; checked once each field is well-formed. */
export function subProcessorErrors(raw: Record<string, unknown>, schemaFields: Set<string>): FieldError[] {
  const list = raw.subProcessors;
  if (!Array.isArray(list) || [...schemaFields].some((f) => f === 'subProcessors' || f.startsWith('subProcessors.'))) return [];
  const countries = Array.isArray(raw.processingCountries) && !schemaFields.has('processingCountries') ? raw.processingCountries : null;
  const purposes = isObj(raw.purposes) ? raw.purposes : null;
  return list.flatMap((s: { country: string; purpose: string }, i) => [
    ...(countries && !countries.includes(s.country) ? [{ field: `subProcessors.${i}.country`, reason: 'must also be listed in processingCountries (RULES 15: every country where data is processed is declared)' }] : []),
    ...(purposes && !Object.hasOwn(purposes, s.purpose) ? [{ field: `subProcessors.${i}.purpose`, reason: 'must be one of the agreement\'s purposes' }] : []),
  ]);
}

const key = (s: SubProcessor) => JSON.stringify([s.name.trim().toLowerCase(), s.country, s.purpose]);

/** RULES 19: the processing countries and sub-processors `next` names that `inForce` does not. */
export function onwardAdditions(
  inForce: { processingCountries: readonly string[]; subProcessors?: readonly SubProcessor[] | undefined },
  next: { processingCountries: readonly string[]; subProcessors?: readonly SubProcessor[] | undefined },
): { countries: string[]; subProcessors: SubProcessor[] } {
  const had = new Set((inForce.subProcessors ?? []).map(key));
  return {
    countries: next.processingCountries.filter((c) => !inForce.processingCountries.includes(c)),
    subProcessors: (next.subProcessors ?? []).filter((s) => !had.has(key(s))),
  };
}
