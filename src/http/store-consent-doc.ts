// CONTRACT 3 as amended by [2/6] (RULES 14, 16(b)): the optional consent fields the gateway reads
// from the core user store, published in /openapi.json so a store's implementers know them. A store
// without them keeps the earlier reading (one cross-border consent for every country, any method).
const consentState = (what: string) => ({
  type: 'object',
  description: what,
  properties: {
    granted: { type: 'boolean' },
    at: { type: ['string', 'null'], format: 'date-time', description: 'when it was given' },
    withdrawnAt: { type: ['string', 'null'], format: 'date-time', description: 'any value means withdrawn (RULES 11)' },
    method: {
      type: ['string', 'null'], enum: ['click', 'signature', 'deemed', null],
      description: 'optional (RULES 14): a cross-border consent counts only when click or signature; present with any other value (deemed, null) it does not count; absent: counts as before',
    },
  },
  required: ['granted', 'at', 'withdrawnAt'],
});

export const CORE_STORE_CROSS_BORDER_CONSENT = {
  ...consentState('The record\'s consents.crossBorder (core user store, CONTRACT 3), as the gateway reads it'),
  properties: {
    ...consentState('').properties,
    countries: {
      type: 'object',
      description: 'optional (RULES 16(b)): ISO 3166-1 alpha-2 -> that country\'s consent (same shape, method included). Present, it alone decides: '
        + 'a foreign country not on the adequacy list needs its own explicit, active entry. Absent: the general consent above covers every country, '
        + 'except a country an agreement version added after review (RULES 19) when the consent was given before that version took effect',
      additionalProperties: consentState('one country\'s cross-border consent'),
    },
  },
};
