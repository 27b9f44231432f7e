// Partner registry (CONTRACT 5): create, list, read, register the public JWKS. Each change is
// written together with its admin audit entry.
import { randomBytes } from 'node:crypto';
import type { Redis } from '../deps.ts';
import type { Actor } from '../auth/roles.ts';
import { auditedEval } from '../auth/admin-audit.ts';
import { Problem, validationFailed, type FieldError } from '../http/problem.ts';
import { dedupe, fieldErrors } from '../http/field-errors.ts';
import { jwksSchema, partnerCreateSchema, PARTNER_ID, type LegalEntityInput } from './partner-schema.ts';
import { checkJwks, privateKeyErrors, type PublicJwks } from './jwks.ts';
import { PARTNERS_SET, partnerCredsKey, partnerKey } from './redis-keys.ts';

export interface Partner {
  id: string;
  name: string;
  contactEmail: string;
  clientCertThumbprint: string | null;
  /** RULES 48: the receiving legal entity; null when not registered (entries then carry the name). */
  legalEntity: LegalEntityInput | null;
  jwks: PublicJwks | null;
  createdAt: string;
  /** Client ids of live credentials (never their secrets). */
  clientIds: string[];
}

const CREATE = `
if redis.call('EXISTS', KEYS[2]) == 1 then return {0} end
redis.call('HSET', KEYS[2], 'doc', ARGV[5], 'jwks', ARGV[6], 'kids', ARGV[7])
redis.call('SADD', KEYS[3], ARGV[8])
audit(ARGV[8], '', ARGV[9])
return {1}`;

const SET_JWKS = `
if redis.call('EXISTS', KEYS[2]) == 0 then return {0} end
local before = redis.call('HGET', KEYS[2], 'kids') or '[]'
redis.call('HSET', KEYS[2], 'jwks', ARGV[5], 'kids', ARGV[6])
audit(ARGV[7], '{"kids":' .. before .. '}', '{"kids":' .. ARGV[6] .. '}')
return {1}`;

const kids = (j: PublicJwks | null) => JSON.stringify(j ? j.keys.map((k) => k.kid) : []);
export const notFoundPartner = (id: string) => new Problem({ status: 404, code: 'not_found', detail: `no partner ${id}` });

async function validJwks(raw: unknown, parsedOk: boolean, prefix: string, errors: FieldError[]): Promise<PublicJwks | null> {
  if (raw === undefined) return null;
  const privateErrors = privateKeyErrors(raw, prefix);
  errors.unshift(...privateErrors);
  if (!parsedOk || privateErrors.length) return null;
  const r = await checkJwks(raw as { keys: Array<Record<string, unknown>> }, prefix);
  errors.push(...r.errors);
  return r.jwks ?? null;
}

export class Partners {
  constructor(private readonly redis: Redis) {}

  async create(actor: Actor, raw: unknown): Promise<Partner> {
    const parsed = partnerCreateSchema.safeParse(raw ?? {});
    const errors = parsed.success ? [] : fieldErrors(parsed.error.issues);
    const jwksOk = parsed.success || !errors.some((e) => e.field.startsWith('jwks'));
    const jwks = await validJwks((raw as { jwks?: unknown } | null)?.jwks, jwksOk, 'jwks.', errors);
    if (!parsed.success || errors.length) throw validationFailed(dedupe(errors));
    const p = parsed.data;
    const id = p.id ?? `p_${randomBytes(8).toString('hex')}`;
    const doc = { id, name: p.name, contactEmail: p.contactEmail, clientCertThumbprint: p.clientCertThumbprint ?? null, legalEntity: p.legalEntity ?? null, createdAt: new Date().toISOString() };
    const summary = JSON.stringify({ id, name: p.name, clientCertThumbprint: doc.clientCertThumbprint, legalEntity: doc.legalEntity, kids: JSON.parse(kids(jwks)) });
    const [ok] = await auditedEval(this.redis, CREATE, actor, 'partner.create', [partnerKey(id), PARTNERS_SET],
      [JSON.stringify(doc), jwks ? JSON.stringify(jwks) : '', kids(jwks), id, summary]);
    if (ok !== 1) throw new Problem({ status: 409, code: 'conflict', detail: `partner ${id} already exists` });
    return { ...doc, jwks, clientIds: [] };
  }

  async setJwks(actor: Actor, id: string, raw: unknown): Promise<Partner> {
    const parsed = jwksSchema.safeParse(raw ?? {});
    const errors = parsed.success ? [] : fieldErrors(parsed.error.issues);
    const jwks = await validJwks(raw ?? {}, parsed.success, '', errors);
    if (!jwks || errors.length) throw validationFailed(dedupe(errors));
    const [ok] = await auditedEval(this.redis, SET_JWKS, actor, 'partner.jwks', [partnerKey(id)], [JSON.stringify(jwks), kids(jwks), id]);
    if (ok !== 1) throw notFoundPartner(id);
    return (await this.get(id))!;
  }

  async get(id: string): Promise<Partner | undefined> {
    if (!PARTNER_ID.test(id)) return undefined;
    const [h, clientIds] = await Promise.all([this.redis.hGetAll(partnerKey(id)), this.redis.sMembers(partnerCredsKey(id))]);
    if (!h.doc) return undefined;
    return { legalEntity: null, ...JSON.parse(h.doc), jwks: h.jwks ? JSON.parse(h.jwks) : null, clientIds: clientIds.sort() };
  }

  async list(): Promise<Partner[]> {
    const ids = (await this.redis.sMembers(PARTNERS_SET)).sort();
    const all = await Promise.all(ids.map((id) => this.get(id)));
    return all.filter((p): p is Partner => p !== undefined);
  }

  async exists(id: string): Promise<boolean> {
    return PARTNER_ID.test(id) && (await this.redis.exists(partnerKey(id))) === 1;
  }
}
