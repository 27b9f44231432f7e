// The transfer log entry (CONTRACT 7 plus RULES 23, 35 and 48) and its hash.
import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical.ts';
import type { LegalBasis } from '../policy/taxonomy.ts';

export type Decision = 'released' | 'denied';
export type CrossBorderBasis = 'domestic' | 'adequacy' | 'consent';

/** RULES 35: what the partner hop negotiated (always TLSv1.2/1.3 with a cipher on a release). */
export interface TlsEvidence {
  protocol: string | null;
  cipher: string | null;
  /** base64url SHA-256 of the client certificate's DER, when one was presented. */
  clientCertThumbprint: string | null;
}

/** RULES 48: the partner's legal entity as registered (or its name alone when none was given). */
export interface LegalEntity {
  name: string;
  country: string | null;
  registrationNumber: string | null;
}

/** RULES 48: the consent record a decision relied on (the store's consent for the purpose). */
export interface ConsentRelied {
  purpose: string;
  grantedAt: string | null;
}

/** Everything the chain does not decide. Values are ids and vocabulary codes only (RULES 48). */
export interface EntryBody {
  id: string;
  at: string;
  requestId: string;
  partnerId: string | null;
  agreementId: string | null;
  agreementVersion: number | null;
  purpose: string | null;
  subjectRef: string | null;
  decision: Decision;
  reason: string | null;
  categories: string[];
  destinationCountries: string[];
  legalBasis: LegalBasis | null;
  crossBorderBasis: CrossBorderBasis | null;
  policyVersion: string | null;
  keyVersion: number | string | null;
  tls: TlsEvidence;
  deleteBy: string | null;
  /** RULES 48 (issue [2/6]): who received it, which consent it relied on, which adequacy list gave the cross-border ground. */
  legalEntity: LegalEntity | null;
  consent: ConsentRelied | null;
  /** When the cross-border ground is the user's consent: that consent (when it was given). */
  crossBorderConsent: { grantedAt: string | null } | null;
  /** When the cross-border ground is adequacy: the governed list's version that listed every country. */
  adequacyListVersion: number | null;
}

export interface TransferEntry extends EntryBody {
  chain: string;
  seq: number;
  prevHash: string;
  hash: string;
}

/** prevHash of seq 1 on every chain. */
export const GENESIS = '0'.repeat(64);

/** hash = SHA-256(canonical JSON of the entry without `hash` || prevHash), hex (issue 5). */
export function entryHash(entry: Omit<TransferEntry, 'hash'> & { hash?: unknown }): string {
  const { hash: _ignored, ...rest } = entry;
  return createHash('sha256').update(canonicalJson(rest), 'utf8').update(entry.prevHash, 'utf8').digest('hex');
}

// The hashed keys of an entry the writer seals, in canonicalJson's order (code units). Sealing
// walks this list instead of sorting each entry's keys (with the field-by-field copy below, a seal
// went from 13 to 6.5 us). test/transfer-log-entry.test.ts checks it against canonicalJson.
const SEALED_KEYS = ['id', 'at', 'requestId', 'partnerId', 'agreementId', 'agreementVersion', 'purpose', 'subjectRef',
  'decision', 'reason', 'categories', 'destinationCountries', 'legalBasis', 'crossBorderBasis', 'policyVersion',
  'keyVersion', 'tls', 'deleteBy', 'legalEntity', 'consent', 'crossBorderConsent', 'adequacyListVersion',
  'chain', 'seq', 'prevHash'].sort();

export function sealEntry(body: EntryBody, chain: string, seq: number, prevHash: string): TransferEntry {
  return sealEntryText(body, chain, seq, prevHash).entry;
}

/**
 * Issue 17 item 4: the sealed entry and the JSON the log stores for it, which is the canonical text
 * the hash covers with `hash` added, so the writer serialises each entry once instead of twice.
 */
export function sealEntryText(body: EntryBody, chain: string, seq: number, prevHash: string): { entry: TransferEntry; text: string } {
  // Field by field (a spread cost more than the hash); TypeScript flags any field left out.
  const b = body;
  const e: TransferEntry = {
    id: b.id, at: b.at, requestId: b.requestId, partnerId: b.partnerId, agreementId: b.agreementId,
    agreementVersion: b.agreementVersion, purpose: b.purpose, subjectRef: b.subjectRef, decision: b.decision,
    reason: b.reason, categories: b.categories, destinationCountries: b.destinationCountries, legalBasis: b.legalBasis,
    crossBorderBasis: b.crossBorderBasis, policyVersion: b.policyVersion, keyVersion: b.keyVersion, tls: b.tls,
    deleteBy: b.deleteBy, legalEntity: b.legalEntity, consent: b.consent, crossBorderConsent: b.crossBorderConsent,
    adequacyListVersion: b.adequacyListVersion, chain, seq, prevHash, hash: '',
  };
  const r = e as unknown as Record<string, unknown>;
  let json = '{';
  for (const k of SEALED_KEYS) json += `${json.length > 1 ? ',' : ''}"${k}":${canonicalJson(r[k])}`;
  e.hash = createHash('sha256').update(`${json}}${prevHash}`, 'utf8').digest('hex');
  return { entry: e, text: `${json},"hash":"${e.hash}"}` };
}
