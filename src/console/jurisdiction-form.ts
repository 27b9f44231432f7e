// Small form helpers of the console's admin forms (jurisdiction, incidents, partner details): the
// submitted values to show back, and a field's error next to it, tied to it for screen readers.
import type { FieldError } from '../http/problem.ts';
import { html, type Html } from './html.ts';

/** The named fields of a urlencoded body, trimmed; a missing one is '' (the service says "required"). */
export function formValues(body: unknown, fields: readonly string[]): Record<string, string> {
  const b = (body ?? {}) as Record<string, unknown>;
  return Object.fromEntries(fields.map((f) => [f, typeof b[f] === 'string' ? (b[f] as string).trim() : '']));
}

/** The error text for `field` (or any field under it, e.g. keys[0].kty), with the id `id`. */
export function fieldError(errors: readonly FieldError[], id: string, field: string): Html | '' {
  const e = errors.filter((x) => x.field === field || x.field.startsWith(`${field}.`) || x.field.startsWith(`${field}[`));
  return e.length ? html`<small class="field-error" id="${id}-error">${e.map((x) => (x.field === field ? x.reason : `${x.field}: ${x.reason}`)).join('; ')}</small>` : '';
}

export function invalidMark(errors: readonly FieldError[], id: string, field: string): Html {
  return errors.some((x) => x.field === field || x.field.startsWith(`${field}.`) || x.field.startsWith(`${field}[`)) ? html` aria-invalid="true" aria-describedby="${id}-error"` : html``;
}
