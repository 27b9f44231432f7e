// Every check on an agreement body, collected so the 400 lists every offending field at once.
// Order of reasons for one field: correspondence first (RULES 7), then the schema, then the rest.
import { CORRESPONDENCE } from '../policy/taxonomy.ts';
import { validationFailed, type FieldError } from '../http/problem.ts';
import { dedupe, fieldErrors } from '../http/field-errors.ts';
import { checkWebhookUrl } from '../notices/url-guard.ts';
import { agreementSchema, type AgreementInput } from './agreement-schema.ts';
import { subProcessorErrors } from './onward-transfer.ts';

export interface AgreementRules {
  policyVersions: readonly string[];
  allowLoopbackWebhooks: boolean;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const CORRESPONDENCE_REASON = 'correspondence can never be shared with a partner, whatever an agreement says (RULES 7)';

/** RULES 7: any key naming correspondence, or a purposes value naming it, anywhere in the body. */
export function correspondenceMentions(v: unknown, path: string[] = [], inPurposes = false): FieldError[] {
  const here = (k: string) => [...path, k].join('.');
  if (typeof v === 'string') return inPurposes && v.trim().toLowerCase() === CORRESPONDENCE ? [{ field: path.join('.'), reason: CORRESPONDENCE_REASON }] : [];
  const entries: Array<[string, unknown]> = Array.isArray(v) ? v.map((x, i) => [String(i), x]) : isObj(v) ? Object.entries(v) : [];
  return entries.flatMap(([k, x]) => [
    ...(/correspondence/i.test(k) ? [{ field: here(k), reason: CORRESPONDENCE_REASON }] : []),
    ...correspondenceMentions(x, [...path, k], inPurposes || (path.length === 0 && k === 'purposes')),
  ]);
}

const unknownKey = (parent: string, key: string) => {
  if (/correspondence/i.test(key)) return CORRESPONDENCE_REASON;
  if (parent === 'purposes') return 'not a purpose of the privacy policy (CONTRACT 2)';
  if (parent.endsWith('.categories')) return 'not a data category (CONTRACT 2)';
  return 'unknown field';
};

const time = (v: unknown) => (typeof v === 'string' ? Date.parse(v) : NaN);

/** Checks across fields; each runs only when its fields are individually well-formed. */
function crossFieldErrors(raw: Record<string, unknown>, schemaFields: Set<string>): FieldError[] {
  const out: FieldError[] = [];
  const c = isObj(raw.confidentiality) ? raw.confidentiality : {};
  const signed = time(c.signedAt), expires = time(c.expiresAt);
  if (!schemaFields.has('confidentiality.expiresAt') && !schemaFields.has('confidentiality.signedAt') && expires <= signed) {
    out.push({ field: 'confidentiality.expiresAt', reason: 'must be after confidentiality.signedAt' });
  }
  const from = time(raw.validFrom), until = time(raw.validUntil);
  if (!schemaFields.has('validFrom') && !schemaFields.has('validUntil') && until <= from) {
    out.push({ field: 'validUntil', reason: 'must be after validFrom' });
  }
  // RULES 4: a purpose whose every category is `drop` would release nothing but the fact of the
  // user; it is refused as an agreement term rather than served as empty data.
  for (const [p, t] of Object.entries(isObj(raw.purposes) ? raw.purposes : {})) {
    const cats = isObj(t) && isObj(t.categories) ? Object.values(t.categories) : [];
    if (cats.length > 0 && cats.every((v) => v === 'drop') && !schemaFields.has(`purposes.${p}.categories`)) {
      out.push({ field: `purposes.${p}.categories`, reason: 'every category is drop: the purpose would release no data (RULES 4); leave the purpose out instead' });
    }
  }
  return [...out, ...subProcessorErrors(raw, schemaFields)];
}

/** Parse and check an agreement body; throws 400 validation_failed naming every bad field. */
export async function validateAgreement(raw: unknown, rules: AgreementRules): Promise<AgreementInput> {
  const body = isObj(raw) ? raw : {};
  const parsed = agreementSchema(rules.policyVersions).safeParse(raw ?? {});
  const schemaErrors = parsed.success ? [] : fieldErrors(parsed.error.issues, unknownKey);
  const bad = new Set(schemaErrors.map((e) => e.field));
  const errors = [...correspondenceMentions(body), ...schemaErrors, ...crossFieldErrors(body, bad)];
  if (typeof body.notifyUrl === 'string' && !bad.has('notifyUrl')) {
    const r = await checkWebhookUrl(body.notifyUrl, { allowLoopback: rules.allowLoopbackWebhooks });
    if (!r.ok) errors.push({ field: 'notifyUrl', reason: r.reason });
  }
  if (errors.length || !parsed.success) throw validationFailed(dedupe(errors));
  return parsed.data;
}
