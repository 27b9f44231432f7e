// The governed jurisdiction state (RULES 17, 20): adequacy entries with their justification,
// approver and review date, and the countries on the kill-switch. Request bodies are validated
// here with the same zod schemas the OpenAPI document shows.
import { z } from 'zod';
import { isCountryCode } from '../config/countries.ts';
import { parseInstant } from '../policy/instant.ts';
import { validationFailed, type FieldError } from '../http/problem.ts';
import { dedupe, fieldErrors } from '../http/field-errors.ts';

export interface AdequacyRecord {
  country: string;
  justification: string;
  /** The admin token id that approved it (or `config` for the bootstrap from configuration). */
  approvedBy: string;
  approvedAt: string;
  /** RULES 17: past this instant the entry counts as absent. */
  reviewBy: string;
}

export interface BlockRecord {
  country: string;
  reason: string;
  blockedBy: string;
  blockedAt: string;
}

export interface JurisdictionState {
  /** Incremented by every change (0: never governed). */
  version: number;
  adequate: AdequacyRecord[];
  blocked: BlockRecord[];
}

const text = (max: number) => z.string().trim().min(1, 'required').max(max);
const instant = z.string().refine((v) => parseInstant(v) !== null, 'must be an ISO 8601 date or date-time with zone, e.g. 2027-01-15T00:00:00Z');

export const adequacyBodySchema = z.strictObject({ justification: text(2000), reviewBy: instant });
export const blockBodySchema = z.strictObject({ reason: text(2000) });

/** The path's country: an ISO 3166-1 alpha-2 code in upper case (an unknown one is refused, RULES 15). */
function countryErrors(country: string): FieldError[] {
  return isCountryCode(country) ? [] : [{ field: 'country', reason: 'must be an ISO 3166-1 alpha-2 country code in upper case, e.g. DE' }];
}

/** Path and body checked together, so one 400 names every offending field. */
export function parseAdequacy(country: string, raw: unknown, home: string, now: Date): { justification: string; reviewBy: string } {
  const errors = countryErrors(country);
  // RULES 16: processing at home is domestic; the adequacy list is only about other countries.
  if (country === home) errors.push({ field: 'country', reason: `is the home jurisdiction ${home}; transfers there are domestic and need no adequacy entry` });
  const r = adequacyBodySchema.safeParse(raw ?? {});
  if (!r.success) errors.push(...fieldErrors(r.error.issues));
  else if (parseInstant(r.data.reviewBy)! <= now.getTime()) errors.push({ field: 'reviewBy', reason: 'must be in the future (an entry past its review date counts as absent)' });
  if (errors.length || !r.success) throw validationFailed(dedupe(errors));
  return { justification: r.data.justification, reviewBy: new Date(parseInstant(r.data.reviewBy)!).toISOString() };
}

export function parseBlock(country: string, raw: unknown): { reason: string } {
  const errors = countryErrors(country);
  const r = blockBodySchema.safeParse(raw ?? {});
  if (!r.success) errors.push(...fieldErrors(r.error.issues));
  if (errors.length || !r.success) throw validationFailed(dedupe(errors));
  return r.data;
}

/** For DELETE: only the path's country. */
export function parseCountry(country: string): string {
  const errors = countryErrors(country);
  if (errors.length) throw validationFailed(errors);
  return country;
}
