// The agreement editor (issue 16 page 6): purposes x categories x treatments as a form, built from
// the taxonomy (CONTRACT 2) — the purposes with their legal basis, the categories, the treatments
// each category allows, which are quasi-identifiers needing a justification for `clear` (RULES 30)
// — never from a list of its own. Each input is named by its field path in the API body, so each
// error of a 400 is shown next to its input; an error on a whole purpose, section or list is shown
// at that group, and every error is also listed at the top with a link to its place.
import { CATEGORIES, PURPOSES, PURPOSE_IDS, QUASI_IDENTIFIERS, treatmentsFor, type Purpose } from '../policy/taxonomy.ts';
import type { FieldError } from '../http/problem.ts';
import { html, type Html } from './html.ts';
import { csrfField } from './layout.ts';
import type { Session } from './sessions.ts';
import { SPARE_SUB_PROCESSOR_ROWS, categoryName, justificationName, subProcessorRows, type FormValues } from './agreement-form-values.ts';

export interface EditorInit { action: string; values: FormValues; errors: FieldError[]; policyVersions: readonly string[]; submitLabel: string }

const inputId = (name: string) => `f-${name.replace(/[^A-Za-z0-9_-]/g, '-')}`;

/**
 * Where an error is shown: the input (or group) whose name is the longest prefix of its field,
 * so `processingCountries.1` goes to processingCountries and `purposes.x.categories` to that
 * purpose's categories. Null: no place on the form (listed at the top only).
 */
export function placeOf(field: string, places: ReadonlySet<string>): string | null {
  const parts = field.split('.');
  for (let n = parts.length; n > 0; n--) {
    const name = parts.slice(0, n).join('.');
    if (places.has(name)) return name;
  }
  return null;
}

class Errors {
  private readonly at = new Map<string, string[]>();
  constructor(readonly all: FieldError[], places: ReadonlySet<string>) {
    for (const e of all) {
      const p = placeOf(e.field, places);
      if (p) this.at.set(p, [...(this.at.get(p) ?? []), p === e.field ? e.reason : `${e.field}: ${e.reason}`]);
    }
  }
  has(name: string) { return this.at.has(name); }
  /** aria attributes of an input with errors. */
  aria(name: string): Html {
    return this.has(name) ? html` aria-invalid="true" aria-describedby="${inputId(name)}-error"` : html``;
  }
  /** The error text shown next to `name`. */
  note(name: string): Html | string {
    const r = this.at.get(name);
    return r ? html`<small class="field-error" id="${inputId(name)}-error">${r.join('; ')}</small>` : '';
  }
  hasUnder(prefix: string) { return [...this.at.keys()].some((k) => k === prefix || k.startsWith(`${prefix}.`)); }
}

/** Every input and error group of the form, for placing errors. */
function places(rows: number): Set<string> {
  const s = new Set(['confidentiality', 'confidentiality.documentRef', 'confidentiality.signedAt', 'confidentiality.expiresAt', 'confidentiality.signatories',
    'validFrom', 'validUntil', 'processingCountries', 'subProcessors', 'purposes', 'requiresPolicyVersion', 'rateLimit', 'rateLimit.requestsPerMinute', 'notifyUrl']);
  for (let i = 0; i < rows; i++) for (const f of ['name', 'country', 'purpose']) s.add(`subProcessors.${i}.${f}`);
  for (const p of PURPOSE_IDS) {
    for (const f of ['', '.bulk', '.dailySubjectQuota', '.retentionDays', '.categories']) s.add(`purposes.${p}${f}`);
    for (const c of CATEGORIES) {
      s.add(categoryName(p, c));
      if (QUASI_IDENTIFIERS.has(c)) s.add(justificationName(p, c));
    }
  }
  return s;
}

function text(e: Errors, v: FormValues, name: string, label: string, extra: { type?: string; hint?: string; placeholder?: string } = {}): Html {
  return html`<label for="${inputId(name)}">${label}${extra.hint ? html` <small class="muted">${extra.hint}</small>` : ''}</label>
<input id="${inputId(name)}" name="${name}" type="${extra.type ?? 'text'}" value="${v[name] ?? ''}"${extra.placeholder ? html` placeholder="${extra.placeholder}"` : ''}${e.aria(name)}>${e.note(name)}`;
}

function purposeBlock(p: Purpose, v: FormValues, e: Errors): Html {
  const chosen = CATEGORIES.filter((c) => v[categoryName(p, c)]);
  const open = chosen.length > 0 || e.hasUnder(`purposes.${p}`);
  return html`<details class="purpose" id="${inputId(`purposes.${p}`)}"${open ? html` open` : ''}>
<summary><strong>${p}</strong> <small class="muted">basis: ${PURPOSES[p]} · ${chosen.length ? `${chosen.length} categories` : 'not in this agreement'}</small></summary>
${e.note(`purposes.${p}`)}${e.note(`purposes.${p}.categories`)}
<div class="category-grid" id="${inputId(`purposes.${p}.categories`)}">${CATEGORIES.map((c) => {
    const name = categoryName(p, c);
    return html`<div><label for="${inputId(name)}">${c}${QUASI_IDENTIFIERS.has(c) ? html` <small class="muted">(quasi-identifier)</small>` : ''}</label>
<select id="${inputId(name)}" name="${name}"${e.aria(name)}><option value="">not sent</option>${treatmentsFor(c).map((t) => html`<option value="${t}"${v[name] === t ? html` selected` : ''}>${t}</option>`)}</select>${e.note(name)}
${QUASI_IDENTIFIERS.has(c) ? text(e, v, justificationName(p, c), 'Justification', { hint: 'needed for clear (RULES 30)' }) : ''}</div>`;
  })}</div>
<div class="grid">
<div><label><input type="checkbox" name="purposes.${p}.bulk"${v[`purposes.${p}.bulk`] === 'on' ? html` checked` : ''}${e.aria(`purposes.${p}.bulk`)}> Bulk pulls allowed (GET /v1/subjects)</label>${e.note(`purposes.${p}.bulk`)}</div>
<div>${text(e, v, `purposes.${p}.dailySubjectQuota`, 'Daily subject quota', { type: 'number', hint: 'empty: none' })}</div>
<div>${text(e, v, `purposes.${p}.retentionDays`, 'Retention (days)', { type: 'number', hint: 'empty: until validUntil' })}</div>
</div></details>`;
}

function subProcessorsBlock(v: FormValues, e: Errors, rows: number): Html {
  return html`<fieldset id="${inputId('subProcessors')}"><legend>Sub-processors <small class="muted">(RULES 15, 19: adding one needs a second admin's approval)</small></legend>${e.note('subProcessors')}
<table><thead><tr><th scope="col">Name</th><th scope="col">Country</th><th scope="col">Purpose</th></tr></thead><tbody>
${Array.from({ length: rows }, (_, i) => html`<tr>
<td><input aria-label="Sub-processor ${i + 1} name" id="${inputId(`subProcessors.${i}.name`)}" name="subProcessors.${i}.name" value="${v[`subProcessors.${i}.name`] ?? ''}"${e.aria(`subProcessors.${i}.name`)}>${e.note(`subProcessors.${i}.name`)}</td>
<td><input aria-label="Sub-processor ${i + 1} country" id="${inputId(`subProcessors.${i}.country`)}" name="subProcessors.${i}.country" maxlength="2" value="${v[`subProcessors.${i}.country`] ?? ''}"${e.aria(`subProcessors.${i}.country`)}>${e.note(`subProcessors.${i}.country`)}</td>
<td><select aria-label="Sub-processor ${i + 1} purpose" id="${inputId(`subProcessors.${i}.purpose`)}" name="subProcessors.${i}.purpose"${e.aria(`subProcessors.${i}.purpose`)}><option value=""></option>${PURPOSE_IDS.map((p) => html`<option${v[`subProcessors.${i}.purpose`] === p ? html` selected` : ''}>${p}</option>`)}</select>${e.note(`subProcessors.${i}.purpose`)}</td></tr>`)}
</tbody></table></fieldset>`;
}

/** The editor; with errors, a summary at the top linking to each marked field. */
export function agreementEditor(s: Session, init: EditorInit): Html {
  const { values: v } = init;
  const rows = Math.max(subProcessorRows(v), 0) + SPARE_SUB_PROCESSOR_ROWS;
  const all = places(rows);
  const e = new Errors(init.errors, all);
  const summary = init.errors.length ? html`<div class="error-summary" role="alert" tabindex="-1" id="agreement-errors"><p><strong>The agreement was not saved: ${init.errors.length} ${init.errors.length === 1 ? 'field needs' : 'fields need'} fixing.</strong></p>
<ul>${init.errors.map((x) => { const p = placeOf(x.field, all); return html`<li>${p ? html`<a href="#${inputId(p)}">${x.field}</a>` : x.field}: ${x.reason}</li>`; })}</ul></div>` : '';
  return html`<form method="post" action="${init.action}" class="agreement-editor" novalidate>${csrfField(s)}${summary}
<fieldset id="${inputId('confidentiality')}"><legend>Confidentiality agreement <small class="muted">(RULES 2)</small></legend>${e.note('confidentiality')}
<div class="grid"><div>${text(e, v, 'confidentiality.documentRef', 'Document reference')}</div>
<div>${text(e, v, 'confidentiality.signedAt', 'Signed on', { placeholder: '2026-01-10' })}</div>
<div>${text(e, v, 'confidentiality.expiresAt', 'Expires on', { placeholder: '2028-01-10' })}</div></div>
<label for="${inputId('confidentiality.signatories')}">Signatories <small class="muted">one a line</small></label>
<textarea id="${inputId('confidentiality.signatories')}" name="confidentiality.signatories" rows="2"${e.aria('confidentiality.signatories')}>${v['confidentiality.signatories'] ?? ''}</textarea>${e.note('confidentiality.signatories')}
</fieldset>
<fieldset id="${inputId('rateLimit')}"><legend>Terms</legend><div class="grid">
<div>${text(e, v, 'validFrom', 'Valid from (UTC)', { placeholder: '2026-01-15T00:00:00Z' })}</div>
<div>${text(e, v, 'validUntil', 'Valid until (UTC)', { placeholder: '2027-01-15T00:00:00Z' })}</div>
<div>${text(e, v, 'processingCountries', 'Processing countries', { hint: 'ISO codes, comma-separated', placeholder: 'KZ, DE' })}</div>
<div><label for="${inputId('requiresPolicyVersion')}">Requires policy version</label><select id="${inputId('requiresPolicyVersion')}" name="requiresPolicyVersion"${e.aria('requiresPolicyVersion')}><option value=""></option>${init.policyVersions.map((pv) => html`<option${v.requiresPolicyVersion === pv ? html` selected` : ''}>${pv}</option>`)}</select>${e.note('requiresPolicyVersion')}</div>
<div>${text(e, v, 'rateLimit.requestsPerMinute', 'Requests per minute', { type: 'number' })}${e.note('rateLimit')}</div>
<div>${text(e, v, 'notifyUrl', 'Notice webhook (https)', { type: 'url', hint: 'optional' })}</div>
</div></fieldset>
${subProcessorsBlock(v, e, rows)}
<fieldset id="${inputId('purposes')}"><legend>Purposes × categories × treatments <small class="muted">a purpose is in the agreement when one of its categories is sent</small></legend>${e.note('purposes')}
${PURPOSE_IDS.map((p) => purposeBlock(p, v, e))}
</fieldset>
<button type="submit">${init.submitLabel}</button>
</form>`;
}
