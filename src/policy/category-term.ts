// RULES 30: how an agreement names a category's treatment. The plain form is the treatment's name
// ("generalise"); a quasi-identifier may also be given as {treatment, justification}, which is the
// only way to send it `clear`. The projection reads terms only through effectiveTreatment.
import { QUASI_IDENTIFIERS, type Category, type Treatment } from './taxonomy.ts';

export interface JustifiedTerm {
  treatment: Treatment;
  /** Why this partner needs more precision than the generalised value (RULES 30). */
  justification?: string;
}
export type CategoryTerm = Treatment | JustifiedTerm;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The treatment a term names (unknown for anything malformed, which treatmentFor refuses). */
export function termTreatment(term: unknown): unknown {
  return isObj(term) ? term.treatment : term;
}

/** The written justification of a term, or null when there is none (blank counts as none). */
export function termJustification(term: unknown): string | null {
  if (!isObj(term) || typeof term.justification !== 'string') return null;
  return term.justification.trim() === '' ? null : term.justification;
}

/**
 * The treatment to apply. RULES 30: a quasi-identifier is generalised by default, so `clear`
 * without a written justification (an agreement stored before the rule, or a hand-edited one)
 * is generalised rather than sent as stored.
 */
export function effectiveTreatment(category: Category, term: unknown): unknown {
  const treatment = termTreatment(term);
  if (treatment === 'clear' && QUASI_IDENTIFIERS.has(category) && termJustification(term) === null) return 'generalise';
  return treatment;
}
