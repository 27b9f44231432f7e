// Issue 19 item 1: examples for the main partner calls in the served document. Shapes only: the
// values are made up (no real user), and the response check in the tests validates them too.
const RECEIPT = 'eyJhbGciOiJFUzI1NiIsInR5cCI6InRyYW5zZmVyLXJlY2VpcHQifQ.eyJ2IjoxfQ.c2ln';

export const PARTNER_EXAMPLES = {
  token: { access_token: 'pgt_Zm9yIGV4YW1wbGUgb25seQ', token_type: 'Bearer', expires_in: 600, scope: 'advertising service_delivery' },
  pulledSubject: {
    subject: 'v1.T3BhcXVlUHNldWRvbnltRXhhbXBsZQ', purpose: 'advertising',
    data: { gender: 'female', date_of_birth: 1994, email: 'pZ2V4YW1wbGUtcHNldWRvbnlt' },
    agreement: { id: 'agr_acme', version: 3 }, transferId: 'tr_0000000000000042', keyVersion: 1,
  },
  bulkPage: {
    items: [{ subject: 'v1.T3BhcXVlUHNldWRvbnltRXhhbXBsZQ', data: { gender: 'female' } }],
    nextCursor: 'cur_c2VhbGVkLWN1cnNvci1leGFtcGxl', omitted: 1, receipts: [RECEIPT],
  },
  notices: {
    items: [{ id: 'ntc_AAAAAAAAAAAAAAAAAAAAAAAA', type: 'consent_withdrawn', subject: 'v1.T3BhcXVlUHNldWRvbnltRXhhbXBsZQ', purposes: ['advertising'], at: '2026-11-20T10:00:00.000Z' }],
    nextCursor: 'cur_c2VhbGVkLWN1cnNvci1leGFtcGxl',
  },
} as const;
