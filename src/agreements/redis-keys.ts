// Where partners, credentials and agreements live in Redis. Agreement ids are stable per partner
// (`agr_<partnerId>`); each POST adds a version, and the id always acts on the current one.
export const PARTNERS_SET = 'pg:partners';
export const partnerKey = (id: string) => `pg:partner:${id}`;
export const partnerCredsKey = (id: string) => `pg:partner:${id}:creds`;
export const credentialKey = (clientId: string) => `pg:cred:${clientId}`;
export const agreementKey = (partnerId: string) => `pg:agr:${partnerId}`;
/** Published (message: partner id) in the same script as every agreement change. */
export const AGREEMENT_CHANNEL = 'pg:agreements:changed';

export const agreementId = (partnerId: string) => `agr_${partnerId}`;
export const partnerOfAgreement = (id: string): string | undefined => (/^agr_[a-z0-9][a-z0-9_-]{1,62}$/.test(id) ? id.slice(4) : undefined);
