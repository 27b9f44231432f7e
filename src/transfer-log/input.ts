// What a caller passes to append (RULES 48: a missing field fails the schema check). The user id
// comes in and never goes out: the writer keeps only its subjectRef. Every other value is an id
// or a vocabulary code, so a record value or pseudonym has no field to travel in.
import { randomUUID } from 'node:crypto';
import { CATEGORIES, PURPOSE_IDS, type Category, type Purpose } from '../policy/taxonomy.ts';
import { POLICY_VERSION } from '../config/schema.ts';
import { isCountryCode } from '../config/countries.ts';
import type { EntryBody } from './entry.ts';
import type { SubjectRefFn } from './subject-ref.ts';

// Issue 17 item 4: this input is built by the gateway itself on every request, so it is checked by
// plain code rather than a zod schema (zod was 4-5 % of the full path's CPU in the profile). The
// checks are the same as the schema's were: strict objects, ids, vocabulary codes, ISO instants, and
// the release's stricter shape (RULES 35, 48). Nothing here is request input: a failure is a
// programming error, and the entry is refused (InvalidEntry), so nothing is released.

type LegalBasis = 'contract' | 'consent' | 'legal_obligation';
type CrossBorderBasis = 'domestic' | 'adequacy' | 'consent';
interface LegalEntity { name: string; country: string | null; registrationNumber: string | null }
interface Fields {
  requestId: string;
  partnerId: string | null;
  agreementId: string | null;
  agreementVersion: number | null;
  purpose: Purpose | null;
  /** The raw user id: turned into subjectRef, never stored. null when no subject was resolved. */
  userId: string | null;
  categories: Category[];
  destinationCountries: string[];
  legalBasis: LegalBasis | null;
  crossBorderBasis: CrossBorderBasis | null;
  policyVersion: string | null;
  keyVersion: number | string | null;
  // RULES 35: evidence of the partner hop, as read from the socket (src/tls/evidence.ts).
  tls: { protocol: string | null; cipher: string | null; clientCertThumbprint: string | null };
  // RULES 23: when the partner must have deleted what it got.
  deleteBy: string | null;
  // RULES 48 (issue [2/6]): the recipient's legal entity, the consent relied on, the cross-border ground's record.
  legalEntity: LegalEntity | null;
  consent: { purpose: Purpose; grantedAt: string | null } | null;
  crossBorderConsent: { grantedAt: string | null } | null;
  adequacyListVersion: number | null;
}
const OPTIONAL = ['legalEntity', 'consent', 'crossBorderConsent', 'adequacyListVersion'] as const;
type Parsed = Fields & ({ decision: 'released'; reason: null } | { decision: 'denied'; reason: string });
/** What append takes; the four RULES 48 records may be left out (null). */
export type AppendInput = Omit<Parsed, (typeof OPTIONAL)[number]> & Partial<Pick<Fields, (typeof OPTIONAL)[number]>>;

/** A programming error in the caller: the entry cannot be written, so nothing may be released. */
export class InvalidEntry extends Error {
  override name = 'InvalidEntry';
}

const ID = /^[A-Za-z0-9._:-]{1,128}$/;
const CODE = /^[a-z][a-z0-9_]{0,63}$/;
const PROTOCOL = /^[A-Za-z0-9.]{1,16}$/;
const CIPHER = /^[A-Za-z0-9_-]{1,64}$/;
const THUMBPRINT = /^[A-Za-z0-9_-]{43}$/;
// An ISO 8601 instant with seconds and an offset (Z or ±hh:mm), as z.iso.datetime({ offset: true }) took.
const INSTANT_FORM = /^(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$/;
/** ...and a day the month has (no 30 February). */
const isInstant = (v: unknown): boolean => {
  const m = typeof v === 'string' ? INSTANT_FORM.exec(v) : null;
  if (m === null) return false;
  const day = Number(m[3]);
  return day <= 28 || day <= new Date(Date.UTC(Number(m[1]), Number(m[2]), 0)).getUTCDate();
};
const PURPOSES = new Set<string>(PURPOSE_IDS);
const CATEGORY_SET = new Set<string>(CATEGORIES);
const LEGAL_BASES = new Set(['contract', 'consent', 'legal_obligation']);
const CROSS_BORDER = new Set(['domestic', 'adequacy', 'consent']);
const FIELDS = new Set(['decision', 'reason', 'requestId', 'partnerId', 'agreementId', 'agreementVersion', 'purpose', 'userId',
  'categories', 'destinationCountries', 'legalBasis', 'crossBorderBasis', 'policyVersion', 'keyVersion', 'tls', 'deleteBy', ...OPTIONAL]);

class Check {
  constructor(private readonly o: Record<string, unknown>, private readonly at = '') {}
  fail(field: string, message: string): never {
    throw new InvalidEntry(`transfer log entry: ${this.at}${field} ${message}`);
  }
  /** The value of `field`, or null; `test` decides a non-null one. */
  value<T>(field: string, nullable: boolean, test: (v: unknown) => boolean, message: string): T {
    const v = this.o[field];
    if (v === null && nullable) return null as T;
    if (v === undefined || v === null || !test(v)) this.fail(field, v === undefined ? 'is required' : message);
    return v as T;
  }
  strict(known: ReadonlySet<string>): void {
    for (const k in this.o) if (!known.has(k)) this.fail(k, 'is not a field of an entry');
  }
  nested(field: string, nullable: boolean): Check | null {
    const v = this.o[field];
    if (v === null && nullable) return null;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) this.fail(field, v === undefined ? 'is required' : 'must be an object');
    return new Check(v as Record<string, unknown>, `${this.at}${field}.`);
  }
}

const str = (re: RegExp) => (v: unknown) => typeof v === 'string' && re.test(v);
const int = (min: number) => (v: unknown) => Number.isInteger(v) && (v as number) >= min;
const inSet = (set: ReadonlySet<string>) => (v: unknown) => typeof v === 'string' && set.has(v);
const country = (v: unknown) => typeof v === 'string' && isCountryCode(v);
const text = (max: number) => (v: unknown) => typeof v === 'string' && v.length >= 1 && v.length <= max;
const arrayOf = (each: (v: unknown) => boolean) => (v: unknown) => Array.isArray(v) && v.every(each);
// Built once: this runs on every request.
const isId = str(ID), isCode = str(CODE), isProtocol = str(PROTOCOL), isCipher = str(CIPHER), isThumbprint = str(THUMBPRINT);
const isPolicyVersion = str(POLICY_VERSION), isPurpose = inSet(PURPOSES);
const isVersion = int(1), isCount = int(0), isKeyVersion = (v: unknown) => isCount(v) || isId(v);
const isCategories = arrayOf(inSet(CATEGORY_SET)), isCountries = arrayOf(country);
const isLegalBasis = inSet(LEGAL_BASES), isCrossBorder = inSet(CROSS_BORDER);
const isName = text(200), isRegistration = text(64), isUserId = text(256);
const isModernTls = (v: unknown) => v === 'TLSv1.2' || v === 'TLSv1.3', never = () => false;
const TLS_FIELDS = new Set(['protocol', 'cipher', 'clientCertThumbprint']);
const ENTITY_FIELDS = new Set(['name', 'country', 'registrationNumber']);
const CONSENT_FIELDS = new Set(['purpose', 'grantedAt']);
const GRANTED_FIELDS = new Set(['grantedAt']);

export function parseAppendInput(input: unknown): Parsed {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw new InvalidEntry('transfer log entry: (root) must be an object');
  const o = input as Record<string, unknown>;
  const c = new Check(o);
  c.strict(FIELDS);
  const decision = o.decision;
  if (decision !== 'released' && decision !== 'denied') c.fail('decision', 'must be released or denied');
  const rel = decision === 'released';
  const reason = rel ? c.value<null>('reason', true, never, 'must be null') : c.value<string>('reason', false, isCode, 'must be a snake_case code');
  const tlsIn = c.nested('tls', false)!;
  tlsIn.strict(TLS_FIELDS);
  // RULES 35: nothing is released over anything but TLS 1.2/1.3.
  const tls = {
    protocol: rel ? tlsIn.value<string>('protocol', false, isModernTls, 'must be TLSv1.2 or TLSv1.3') : tlsIn.value<string | null>('protocol', true, isProtocol, 'must be a protocol name'),
    cipher: tlsIn.value<string | null>('cipher', !rel, isCipher, 'must be a cipher name'),
    clientCertThumbprint: tlsIn.value<string | null>('clientCertThumbprint', true, isThumbprint, 'must be a thumbprint'),
  };
  const le = o.legalEntity === undefined ? null : c.nested('legalEntity', !rel);
  // RULES 48: a release names the legal entity that received it.
  if (rel && !le) c.fail('legalEntity', 'is required');
  le?.strict(ENTITY_FIELDS);
  const legalEntity: LegalEntity | null = le && { name: le.value('name', false, isName, 'must be 1 to 200 characters'), country: le.value('country', true, country, 'must be an ISO country code'), registrationNumber: le.value('registrationNumber', true, isRegistration, 'must be 1 to 64 characters') };
  const co = o.consent === undefined ? null : c.nested('consent', true);
  co?.strict(CONSENT_FIELDS);
  const consent = co && { purpose: co.value<Purpose>('purpose', false, isPurpose, 'must be a purpose'), grantedAt: co.value<string | null>('grantedAt', true, isInstant, 'must be an ISO date-time') };
  const cb = o.crossBorderConsent === undefined ? null : c.nested('crossBorderConsent', true);
  cb?.strict(GRANTED_FIELDS);
  const crossBorderConsent = cb && { grantedAt: cb.value<string | null>('grantedAt', true, isInstant, 'must be an ISO date-time') };
  const p: Parsed = {
    decision, reason,
    requestId: c.value('requestId', false, isId, 'must be an id'),
    partnerId: c.value('partnerId', !rel, isId, 'must be an id'),
    agreementId: c.value('agreementId', !rel, isId, 'must be an id'),
    agreementVersion: c.value('agreementVersion', !rel, isVersion, 'must be an integer >= 1'),
    purpose: c.value('purpose', !rel, isPurpose, 'must be a purpose'),
    userId: c.value('userId', !rel, isUserId, 'must be 1 to 256 characters'),
    categories: c.value('categories', false, isCategories, 'must be a list of categories'),
    destinationCountries: c.value('destinationCountries', false, isCountries, 'must be a list of ISO country codes'),
    legalBasis: c.value('legalBasis', !rel, isLegalBasis, 'must be a legal basis'),
    crossBorderBasis: c.value('crossBorderBasis', !rel, isCrossBorder, 'must be a cross-border basis'),
    policyVersion: c.value('policyVersion', !rel, isPolicyVersion, 'must be a policy version'),
    keyVersion: c.value('keyVersion', true, isKeyVersion, 'must be a key version'),
    tls,
    deleteBy: c.value('deleteBy', !rel, isInstant, 'must be an ISO date-time'),
    legalEntity, consent, crossBorderConsent,
    adequacyListVersion: o.adequacyListVersion === undefined ? null : c.value('adequacyListVersion', true, isCount, 'must be an integer >= 0'),
  } as Parsed;
  // RULES 48: a release on a ground names the record of that ground.
  if (rel) {
    if (p.legalBasis === 'consent' && (p.consent === null || p.consent.purpose !== p.purpose)) c.fail('consent', 'required: the consent this release relied on');
    if (p.crossBorderBasis === 'adequacy' && p.adequacyListVersion === null) c.fail('adequacyListVersion', 'required: the adequacy list version that gave the ground');
    if (p.crossBorderBasis === 'consent' && p.crossBorderConsent === null) c.fail('crossBorderConsent', 'required: the cross-border consent this release relied on');
  }
  return p;
}

/** The stored body of an input: validated, the user id replaced by its subjectRef. */
export function entryBody(input: AppendInput, subjectRef: SubjectRefFn, at: Date): EntryBody {
  const i = parseAppendInput(input);
  // Field by field, never a spread: the user id must not reach the entry (RULES 48).
  return {
    id: randomUUID(), at: at.toISOString(), requestId: i.requestId,
    partnerId: i.partnerId, agreementId: i.agreementId, agreementVersion: i.agreementVersion,
    purpose: i.purpose, subjectRef: i.userId === null ? null : subjectRef(i.userId),
    decision: i.decision, reason: i.reason, categories: [...new Set(i.categories)].sort(),
    destinationCountries: [...new Set(i.destinationCountries)].sort(), legalBasis: i.legalBasis,
    crossBorderBasis: i.crossBorderBasis, policyVersion: i.policyVersion, keyVersion: i.keyVersion,
    tls: { protocol: i.tls.protocol, cipher: i.tls.cipher, clientCertThumbprint: i.tls.clientCertThumbprint },
    deleteBy: i.deleteBy,
    legalEntity: i.legalEntity === null ? null : { name: i.legalEntity.name, country: i.legalEntity.country, registrationNumber: i.legalEntity.registrationNumber },
    consent: i.consent === null ? null : { purpose: i.consent.purpose, grantedAt: i.consent.grantedAt },
    crossBorderConsent: i.crossBorderConsent === null ? null : { grantedAt: i.crossBorderConsent.grantedAt }, adequacyListVersion: i.adequacyListVersion,
  };
}
