// Issue 18: every key here carries the control-plane hash tag (redis/keys.ts).
import { CONTROL_PLANE as CP } from '../redis/keys.ts';
// Where partners, credentials and agreements live in Redis. Agreement ids are stable per partner
// (`agr_<partnerId>`); each POST adds a version, and the id always acts on the current one.
export const PARTNERS_SET = `${CP}partners`;
export const partnerKey = (id: string) => `${CP}partner:${id}`;
export const partnerCredsKey = (id: string) => `${CP}partner:${id}:creds`;
export const credentialKey = (clientId: string) => `${CP}cred:${clientId}`;
export const agreementKey = (partnerId: string) => `${CP}agr:${partnerId}`;
/** Published (message: partner id) in the same script as every agreement change. */
export const AGREEMENT_CHANNEL = 'pg:agreements:changed';

export const agreementId = (partnerId: string) => `agr_${partnerId}`;
export const partnerOfAgreement = (id: string): string | undefined => (/^agr_[a-z0-9][a-z0-9_-]{1,62}$/.test(id) ? id.slice(4) : undefined);
