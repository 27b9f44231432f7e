// The console's transfer log filters, from a GET form: partner, purpose, decision, country, a
// subject (a user id, compared by its subjectRef on the server), and a UTC time range. Empty form
// fields mean "any". The log's own filter compiler checks the values, so the console and the API
// refuse the same things; the console shows the errors next to the fields instead of a 400 body.
import { isCountryCode } from '../config/countries.ts';
import { Problem, type FieldError } from '../http/problem.ts';
import type { TransferFilter } from '../transfer-log/index.ts';
import type { TransferEntry } from '../transfer-log/entry.ts';

export interface ConsoleFilter extends TransferFilter {
  /** A destination country (ISO alpha-2): matched on the entry's destinationCountries. */
  country?: string;
}

export interface ParsedFilter { filter: ConsoleFilter; errors: FieldError[]; /** The form's values, to show them back. */ form: Record<string, string> }

const KEYS = ['partnerId', 'purpose', 'decision', 'subject', 'from', 'to', 'country'] as const;
// <input type="datetime-local"> sends minutes without a zone; the form says these are UTC.
const LOCAL_MINUTES = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?$/;

export function parseConsoleFilter(query: unknown, compile: (f: TransferFilter) => unknown, keys: readonly (typeof KEYS)[number][] = KEYS): ParsedFilter {
  const q = (query ?? {}) as Record<string, unknown>;
  const form: Record<string, string> = {};
  const filter: ConsoleFilter = {};
  const errors: FieldError[] = [];
  for (const k of keys) {
    const v = q[k];
    if (typeof v !== 'string' || v.trim() === '') continue;
    form[k] = v.trim();
    if (k === 'country') {
      const c = v.trim().toUpperCase();
      if (isCountryCode(c)) filter.country = c;
      else errors.push({ field: 'country', reason: 'must be an ISO 3166-1 alpha-2 country code' });
    } else if (k === 'from' || k === 'to') {
      filter[k] = LOCAL_MINUTES.test(form[k]) ? `${form[k]}${form[k].length === 16 ? ':00' : ''}Z` : form[k];
    } else {
      filter[k] = form[k];
    }
  }
  const { country: _c, ...logFilter } = filter;
  try {
    compile(logFilter);
  } catch (e) {
    if (!(e instanceof Problem) || !Array.isArray(e.extra.errors)) throw e;
    errors.push(...(e.extra.errors as FieldError[]));
  }
  for (const e of errors) delete filter[e.field as keyof ConsoleFilter];
  return { filter, errors, form };
}

/** The part of the filter the transfer log evaluates itself. */
export function logFilterOf(f: ConsoleFilter): TransferFilter {
  const { country: _c, ...rest } = f;
  return rest;
}

/** The country filter, which the log query does not know: applied to each entry. */
export const countryMatches = (f: ConsoleFilter, e: TransferEntry) => f.country === undefined || e.destinationCountries.includes(f.country);

/** The filter as a query string for links (next page, export, stream), from the form's values. */
export function filterQueryString(form: Record<string, string>, extra: Record<string, string> = {}): string {
  return new URLSearchParams({ ...form, ...extra }).toString();
}
