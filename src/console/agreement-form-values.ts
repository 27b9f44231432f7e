// The agreement editor's form <-> the admin API's agreement body (CONTRACT 5). Every input is named
// by the body's own field path (`purposes.advertising.categories.ip_address`), so a 400's field
// errors land next to the input of the same name. The body built here goes to the same
// Agreements.create as POST /admin/v1/partners/{id}/agreements: the console validates nothing
// itself (issue 16: no second implementation of validation).
import { CATEGORIES, PURPOSE_IDS, QUASI_IDENTIFIERS } from '../policy/taxonomy.ts';
import { termJustification, termTreatment } from '../policy/category-term.ts';
import type { AgreementInput } from '../agreements/agreement-schema.ts';

/** The form's values by input name. */
export type FormValues = Record<string, string>;

/** Sub-processor rows the editor offers beyond those the version already has. */
export const SPARE_SUB_PROCESSOR_ROWS = 2;
const MAX_SUB_PROCESSOR_ROWS = 100;

export const categoryName = (p: string, c: string) => `purposes.${p}.categories.${c}`;
export const justificationName = (p: string, c: string) => `${categoryName(p, c)}.justification`;

const list = (v: string | undefined, sep: RegExp) => (v ?? '').split(sep).map((s) => s.trim()).filter(Boolean);
// A number typed into the form; anything else goes through as typed so the validator names it.
const num = (v: string): number | string => (/^-?\d+$/.test(v.trim()) ? Number(v.trim()) : v);
const trimmed = (v: FormValues, k: string) => (v[k] ?? '').trim();

/** The number of sub-processor rows the values hold (their highest index + 1). */
export function subProcessorRows(v: FormValues): number {
  let n = 0;
  for (const k of Object.keys(v)) {
    const m = /^subProcessors\.(\d+)\./.exec(k);
    if (m && Number(m[1]) < MAX_SUB_PROCESSOR_ROWS) n = Math.max(n, Number(m[1]) + 1);
  }
  return n;
}

/** The submitted form as the admin API's body. Empty optional fields are left out. */
export function formToBody(v: FormValues): Record<string, unknown> {
  const purposes: Record<string, unknown> = {};
  for (const p of PURPOSE_IDS) {
    const categories: Record<string, unknown> = {};
    for (const c of CATEGORIES) {
      const t = trimmed(v, categoryName(p, c));
      if (!t) continue;
      const why = QUASI_IDENTIFIERS.has(c) ? trimmed(v, justificationName(p, c)) : '';
      // RULES 30: a quasi-identifier sent clear carries its justification; without one the
      // validator refuses `clear` and says so next to this input.
      categories[c] = why ? { treatment: t, justification: why } : t;
    }
    // A purpose is in the agreement when at least one of its categories has a treatment.
    if (!Object.keys(categories).length) continue;
    const terms: Record<string, unknown> = { categories, bulk: v[`purposes.${p}.bulk`] === 'on' };
    const quota = trimmed(v, `purposes.${p}.dailySubjectQuota`);
    if (quota) terms.dailySubjectQuota = num(quota);
    const days = trimmed(v, `purposes.${p}.retentionDays`);
    if (days) terms.retentionDays = num(days);
    purposes[p] = terms;
  }
  const subProcessors = Array.from({ length: subProcessorRows(v) }, (_, i) => ({
    name: trimmed(v, `subProcessors.${i}.name`), country: trimmed(v, `subProcessors.${i}.country`).toUpperCase(), purpose: trimmed(v, `subProcessors.${i}.purpose`),
  })).filter((s) => s.name || s.country || s.purpose);
  const notifyUrl = trimmed(v, 'notifyUrl');
  const rpm = trimmed(v, 'rateLimit.requestsPerMinute');
  return {
    confidentiality: {
      documentRef: trimmed(v, 'confidentiality.documentRef'),
      signedAt: trimmed(v, 'confidentiality.signedAt'),
      expiresAt: trimmed(v, 'confidentiality.expiresAt'),
      signatories: list(v['confidentiality.signatories'], /\r?\n/),
    },
    validFrom: trimmed(v, 'validFrom'),
    validUntil: trimmed(v, 'validUntil'),
    processingCountries: list(v.processingCountries, /[\s,]+/).map((c) => c.toUpperCase()),
    ...(subProcessors.length ? { subProcessors } : {}),
    purposes,
    requiresPolicyVersion: trimmed(v, 'requiresPolicyVersion'),
    rateLimit: { requestsPerMinute: rpm ? num(rpm) : undefined },
    ...(notifyUrl ? { notifyUrl } : {}),
  };
}

/** Only the editor's own fields of a POSTed form (never _csrf or anything else sent along). */
export function formValuesOf(body: unknown): FormValues {
  const out: FormValues = {};
  const known = /^(confidentiality\.(documentRef|signedAt|expiresAt|signatories)|validFrom|validUntil|processingCountries|requiresPolicyVersion|rateLimit\.requestsPerMinute|notifyUrl|subProcessors\.\d{1,2}\.(name|country|purpose)|purposes\.[a-z_]+\.(bulk|dailySubjectQuota|retentionDays|categories\.[a-z_]+(\.justification)?))$/;
  for (const [k, v] of Object.entries((body ?? {}) as Record<string, unknown>)) if (known.test(k) && typeof v === 'string') out[k] = v;
  return out;
}

/** The editor for a partner's first agreement: bulk allowed per purpose (its default), nothing else filled. */
export function blankForm(policyVersions: readonly string[]): FormValues {
  const v: FormValues = { 'rateLimit.requestsPerMinute': '600' };
  if (policyVersions.length) v.requiresPolicyVersion = policyVersions[policyVersions.length - 1]!;
  for (const p of PURPOSE_IDS) v[`purposes.${p}.bulk`] = 'on';
  return v;
}

/** A stored version as the editor's starting values (a new version starts from the one in force). */
export function versionToForm(a: AgreementInput): FormValues {
  const v: FormValues = {
    'confidentiality.documentRef': a.confidentiality.documentRef,
    'confidentiality.signedAt': a.confidentiality.signedAt,
    'confidentiality.expiresAt': a.confidentiality.expiresAt,
    'confidentiality.signatories': a.confidentiality.signatories.join('\n'),
    validFrom: a.validFrom, validUntil: a.validUntil,
    processingCountries: a.processingCountries.join(', '),
    requiresPolicyVersion: a.requiresPolicyVersion,
    'rateLimit.requestsPerMinute': String(a.rateLimit.requestsPerMinute),
    ...(a.notifyUrl ? { notifyUrl: a.notifyUrl } : {}),
  };
  for (const p of PURPOSE_IDS) v[`purposes.${p}.bulk`] = 'on'; // RULES 6: bulk is allowed unless an agreement says otherwise
  (a.subProcessors ?? []).forEach((s, i) => Object.assign(v, { [`subProcessors.${i}.name`]: s.name, [`subProcessors.${i}.country`]: s.country, [`subProcessors.${i}.purpose`]: s.purpose }));
  for (const [p, t] of Object.entries(a.purposes)) {
    if (!t) continue;
    if (t.bulk === false) delete v[`purposes.${p}.bulk`];
    if (t.dailySubjectQuota != null) v[`purposes.${p}.dailySubjectQuota`] = String(t.dailySubjectQuota);
    if (t.retentionDays !== undefined) v[`purposes.${p}.retentionDays`] = String(t.retentionDays);
    for (const [c, term] of Object.entries(t.categories)) {
      v[categoryName(p, c)] = String(termTreatment(term));
      const why = termJustification(term);
      if (why) v[justificationName(p, c)] = why;
    }
  }
  return v;
}
