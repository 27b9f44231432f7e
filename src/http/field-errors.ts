// zod issues -> the `errors` of a 400 validation_failed: every offending field, each with a reason.
// Objects are strict, so an unknown key is an error of its own (never silently ignored).
import type { z } from 'zod';
import { validationFailed, type FieldError } from './problem.ts';

export type UnknownKeyReason = (parentPath: string, key: string) => string;

const join = (path: readonly PropertyKey[]) => (path.length ? path.map(String).join('.') : 'body');

export function fieldErrors(issues: readonly z.core.$ZodIssue[], unknownKey: UnknownKeyReason = () => 'unknown field'): FieldError[] {
  const out: FieldError[] = [];
  for (const i of issues) {
    if (i.code === 'unrecognized_keys') {
      const parent = i.path.length ? join(i.path) : '';
      for (const k of i.keys) out.push({ field: parent ? `${parent}.${k}` : k, reason: unknownKey(parent, k) });
    } else if (i.code === 'invalid_type' && / received undefined$/.test(i.message)) {
      out.push({ field: join(i.path), reason: 'required' });
    } else {
      out.push({ field: join(i.path), reason: i.message });
    }
  }
  return out;
}

/** Keep one reason per field: the first given wins (callers put the most important first). */
export function dedupe(errors: FieldError[]): FieldError[] {
  const seen = new Set<string>();
  return errors.filter((e) => !seen.has(e.field) && seen.add(e.field));
}

/** Parse or throw 400 validation_failed listing every issue. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown, unknownKey?: UnknownKeyReason): z.output<S> {
  const r = schema.safeParse(body ?? {});
  if (!r.success) throw validationFailed(dedupe(fieldErrors(r.error.issues, unknownKey)));
  return r.data;
}
