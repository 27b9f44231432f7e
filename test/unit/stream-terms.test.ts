// DESIGN 8: the checks a bulk stream repeats before each page, on in-memory state. The integration
// tests (partner-bulk-midstream) drive them through real admin changes; this covers what cannot be
// waited for there: a token whose exp passes mid-stream, and a token check that cannot run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { termsLapsed, type StreamTerms } from '../../src/transfers/stream-terms.ts';
import type { PullServices } from '../../src/transfers/services.ts';
import type { PartnerCall } from '../../src/transfers/evaluate.ts';
import type { AgreementVersion } from '../../src/agreements/agreement-store.ts';
import { Problem } from '../../src/http/problem.ts';

const NOW = new Date('2026-11-27T06:00:00Z');

const agreement = {
  id: 'agr_p1', partnerId: 'p1', version: 1, status: 'active', createdAt: '2026-01-15T00:00:00Z', statusChangedAt: '2026-01-15T00:00:00Z',
  confidentiality: { documentRef: 'NDA-1', signedAt: '2026-01-10', expiresAt: '2028-01-10', signatories: ['A. Name'] },
  validFrom: '2026-01-15T00:00:00Z', validUntil: '2027-01-15T00:00:00Z', processingCountries: ['KZ'],
  purposes: { service_delivery: { categories: { phone: 'clear' } } }, requiresPolicyVersion: '2024-03', rateLimit: { requestsPerMinute: 600 },
} as unknown as AgreementVersion;

function setup(over: { exp?: number; live?: () => Promise<boolean>; current?: AgreementVersion; accepted?: number[]; blocked?: string[] } = {}) {
  const svc = {
    config: { policy: { versions: [{ version: '2024-03', publishedAt: '2024-03-01T00:00:00Z' }] }, retention: { afterTerminationDays: 1095 } },
    agreements: { ready: true, current: () => over.current ?? agreement },
    keyVersions: () => ({ current: 1, accepted: over.accepted ?? [1] }),
    jurisdiction: () => ({ home: 'KZ', adequate: [], blocked: over.blocked ?? [] }),
    tokens: { live: over.live ?? (async () => true) },
    now: () => NOW,
  } as unknown as PullServices;
  const call = {
    partnerId: 'p1', tokenHash: 'h', purpose: 'service_delivery', requestId: 'r1', bindingRequired: false,
    token: { partnerId: 'p1', clientId: 'c1', scope: ['service_delivery'], cnf: null, exp: over.exp ?? NOW.getTime() / 1000 + 600 },
    tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', clientCertThumbprint: null },
  } as unknown as PartnerCall;
  const terms: StreamTerms = { agreement, keyVersion: 1 };
  return { svc, call, terms };
}

test('terms that still hold let the stream go on', async () => {
  const { svc, call, terms } = setup();
  assert.equal(await termsLapsed(svc, call, terms), null);
});

test('a token whose exp passed during the stream ends it with invalid_token', async () => {
  const { svc, call, terms } = setup({ exp: NOW.getTime() / 1000 - 1 });
  assert.equal((await termsLapsed(svc, call, terms))?.reason, 'invalid_token');
});

test('a revoked token (nothing found for its hash) ends it with invalid_token', async () => {
  const { svc, call, terms } = setup({ live: async () => false });
  const lapse = await termsLapsed(svc, call, terms);
  assert.equal(lapse?.reason, 'invalid_token');
  assert.equal(lapse?.status, 401);
});

test('a token check that cannot run fails closed with 503', async () => {
  const { svc, call, terms } = setup({ live: async () => { throw new Error('no reply from redis'); } });
  await assert.rejects(termsLapsed(svc, call, terms), (e: Problem) => e instanceof Problem && e.status === 503);
});

test('status, version, key version and kill-switch each end it with their code', async () => {
  const cases: Array<[Parameters<typeof setup>[0], string, number]> = [
    [{ current: { ...agreement, status: 'suspended' } as AgreementVersion }, 'agreement_inactive', 403],
    [{ current: { ...agreement, version: 2 } as AgreementVersion }, 'agreement_changed', 409],
    [{ accepted: [2] }, 'agreement_changed', 409],
    [{ blocked: ['KZ'] }, 'country_blocked', 403],
  ];
  for (const [over, reason, status] of cases) {
    const { svc, call, terms } = setup(over);
    const lapse = await termsLapsed(svc, call, terms);
    assert.equal(lapse?.reason, reason, JSON.stringify(over));
    assert.equal(lapse?.status, status);
  }
});
