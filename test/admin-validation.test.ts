// CONTRACT 5 agreement validation: each failure is a 400 validation_failed (problem+json) naming
// the offending field with a reason; a body with several faults lists every one of them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, type Stack } from './harness/stack.ts';
import { adminApi, agreementBody, fieldsOf, newPartner, type Api } from './harness/admin.ts';

let stack: Stack;
let api: Api;
let partner: string;
before(async () => {
  stack = await startStack({ users: 5 });
  api = adminApi(stack, stack.adminToken);
  partner = await newPartner(api);
});
after(() => stack.close());

async function rejects(body: unknown, field: string, reason?: RegExp): Promise<Map<string, string>> {
  const r = await api('POST', `/admin/v1/partners/${partner}/agreements`, { body });
  assert.equal(r.status, 400, r.text);
  assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal(r.body.code, 'validation_failed');
  const fields = fieldsOf(r);
  assert.ok(fields.has(field), `expected ${field} in ${JSON.stringify(r.body.errors)}`);
  if (reason) assert.match(fields.get(field)!, reason);
  return fields;
}

test('control: the CONTRACT 5 example body is accepted', async () => {
  const r = await api('POST', `/admin/v1/partners/${partner}/agreements`, { body: agreementBody({ notifyUrl: 'https://localhost:9443/notices' }) });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.body.status, 'active');
});

test('RULES 2: the confidentiality block is required', async () => {
  const { confidentiality: _, ...body } = agreementBody();
  await rejects(body, 'confidentiality', /required/);
});

test('RULES 2: confidentiality needs a documentRef', async () => {
  await rejects(agreementBody({ confidentiality: { signedAt: '2026-01-10', expiresAt: '2028-01-10', signatories: ['A'] } }), 'confidentiality.documentRef', /required/);
});

test('RULES 2: confidentiality expiresAt must be after signedAt', async () => {
  await rejects(agreementBody({ confidentiality: { documentRef: 'NDA-1', signedAt: '2026-01-10', expiresAt: '2025-01-10', signatories: ['A'] } }), 'confidentiality.expiresAt', /after/);
});

test('RULES 2: confidentiality needs at least one signatory', async () => {
  await rejects(agreementBody({ confidentiality: { documentRef: 'NDA-1', signedAt: '2026-01-10', expiresAt: '2028-01-10', signatories: [] } }), 'confidentiality.signatories', /signatory/);
});

test('validFrom must be before validUntil', async () => {
  await rejects(agreementBody({ validFrom: '2027-01-15T00:00:00Z', validUntil: '2026-01-15T00:00:00Z' }), 'validUntil', /after validFrom/);
});

test('a purpose outside the taxonomy is rejected', async () => {
  await rejects(agreementBody({ purposes: { resale: { categories: { email: 'clear' } } } }), 'purposes.resale', /not a purpose/);
});

test('a category outside the taxonomy is rejected', async () => {
  await rejects(agreementBody({ purposes: { advertising: { categories: { shoe_size: 'clear' } } } }), 'purposes.advertising.categories.shoe_size', /not a data category/);
});

test('RULES 7: correspondence as a category is rejected: it can never be shared', async () => {
  await rejects(agreementBody({ purposes: { advertising: { categories: { correspondence: 'pseudonymise' } } } }),
    'purposes.advertising.categories.correspondence', /never be shared/);
});

test('RULES 7: correspondence anywhere else (as a purpose) is rejected too', async () => {
  await rejects(agreementBody({ purposes: { correspondence: { categories: { email: 'clear' } } } }), 'purposes.correspondence', /never be shared/);
});

test('generalise only where CONTRACT 2 defines it (not for email)', async () => {
  await rejects(agreementBody({ purposes: { advertising: { categories: { email: 'generalise' } } } }), 'purposes.advertising.categories.email', /generalise is not defined for email/);
});

test('RULES 30: clear on a quasi-identifier needs a written justification, named per category', async () => {
  for (const c of ['date_of_birth', 'geolocation', 'ip_address', 'visit_times', 'browser', 'operating_system']) {
    await rejects(agreementBody({ purposes: { advertising: { categories: { [c]: 'clear' } } } }), `purposes.advertising.categories.${c}`, /justification/);
  }
  await rejects(agreementBody({ purposes: { advertising: { categories: { ip_address: { treatment: 'clear' } } } } }), 'purposes.advertising.categories.ip_address.justification', /required/);
  await rejects(agreementBody({ purposes: { advertising: { categories: { ip_address: { treatment: 'clear', justification: '  ' } } } } }), 'purposes.advertising.categories.ip_address.justification', /blank/);
  await rejects(agreementBody({ purposes: { advertising: { categories: { ip_address: { treatment: 'clear', justification: 'x', why: 'y' } } } } }), 'purposes.advertising.categories.ip_address.why', /unknown field/);
  await rejects(agreementBody({ purposes: { advertising: { categories: { email: { treatment: 'clear', justification: 'x' } } } } }), 'purposes.advertising.categories.email', /must be one of/);
  const why = 'chargeback disputes need the exact address (agreement annex 2)';
  const other = await newPartner(api); // the rejections above stored nothing for `partner` (checked below)
  const ok = await api('POST', `/admin/v1/partners/${other}/agreements`, { body: agreementBody({ purposes: { service_delivery: { categories: {
    ip_address: { treatment: 'clear', justification: why }, browser: 'generalise', operating_system: { treatment: 'generalise' }, phone: 'clear',
  } } } }) });
  assert.equal(ok.status, 201, ok.text);
  assert.deepEqual(ok.body.purposes.service_delivery.categories.ip_address, { treatment: 'clear', justification: why });
});

test('an unknown treatment is rejected', async () => {
  await rejects(agreementBody({ purposes: { advertising: { categories: { gender: 'blur' } } } }), 'purposes.advertising.categories.gender', /must be one of/);
});

test('processingCountries must not be empty', async () => {
  await rejects(agreementBody({ processingCountries: [] }), 'processingCountries', /at least one country/);
});

test('processingCountries must be ISO 3166-1 alpha-2 codes', async () => {
  await rejects(agreementBody({ processingCountries: ['KZ', 'EU'] }), 'processingCountries.1', /ISO 3166-1 alpha-2/);
});

test('requiresPolicyVersion must be a configured policy version', async () => {
  await rejects(agreementBody({ requiresPolicyVersion: '2023-01' }), 'requiresPolicyVersion', /2024-03/);
});

test('RULES 45: notifyUrl must be https', async () => {
  await rejects(agreementBody({ notifyUrl: 'http://partner.example/notices' }), 'notifyUrl', /https/);
});

test('RULES 45: notifyUrl may not point at a private address', async () => {
  await rejects(agreementBody({ notifyUrl: 'https://10.1.2.3/notices' }), 'notifyUrl', /private/);
});

test('RULES 45: notifyUrl may not point at the cloud metadata address', async () => {
  await rejects(agreementBody({ notifyUrl: 'https://169.254.169.254/latest' }), 'notifyUrl', /metadata/);
});

test('RULES 45: notifyUrl may not use an IPv4-mapped IPv6 private address', async () => {
  await rejects(agreementBody({ notifyUrl: 'https://[::ffff:192.168.1.1]/n' }), 'notifyUrl', /private/);
});

test('RULES 45: notifyUrl may not point at a link-local address', async () => {
  await rejects(agreementBody({ notifyUrl: 'https://[fe80::1]/n' }), 'notifyUrl', /link-local/);
});

test('RULES 45: notifyUrl may not use 6to4, Teredo, site-local, NAT64, IPv4-mapped loopback, CGNAT, benchmarking or multicast addresses, though this stack allows loopback', async () => {
  for (const [url, cls] of [
    ['https://[2002:5db8:d70e::1]/n', /6to4/], ['https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/n', /Teredo/],
    ['https://[fec0::1]/n', /site-local/], ['https://[64:ff9b::808:808]/n', /NAT64/],
    ['https://[::ffff:127.0.0.1]/n', /loopback \(IPv4-mapped\)/], ['https://[::7f00:1]/n', /loopback \(IPv4-compatible\)/],
    ['https://100.64.0.1/n', /carrier-grade NAT/], ['https://198.18.0.1/n', /benchmarking/],
    ['https://224.0.0.1/n', /multicast/], ['https://[ff0e::1]/n', /multicast/],
  ] as const) await rejects(agreementBody({ notifyUrl: url }), 'notifyUrl', cls);
});

test('rateLimit must be within bounds', async () => {
  await rejects(agreementBody({ rateLimit: { requestsPerMinute: 0 } }), 'rateLimit.requestsPerMinute', /at least 1/);
  await rejects(agreementBody({ rateLimit: { requestsPerMinute: 1e7 } }), 'rateLimit.requestsPerMinute', /at most/);
});

test('unknown keys are rejected, not ignored', async () => {
  await rejects(agreementBody({ bulkExport: true }), 'bulkExport', /unknown field/);
  await rejects(agreementBody({ rateLimit: { requestsPerMinute: 10, burst: 100 } }), 'rateLimit.burst', /unknown field/);
});

test('a body with several faults names every offending field at once', async () => {
  const fields = await rejects(agreementBody({
    validFrom: 'soon', processingCountries: [], requiresPolicyVersion: 'x',
    purposes: { advertising: { categories: { email: 'generalise', correspondence: 'clear' } } },
    notifyUrl: 'https://10.0.0.1/', extra: 1,
  }), 'validFrom');
  for (const f of ['processingCountries', 'requiresPolicyVersion', 'purposes.advertising.categories.email',
    'purposes.advertising.categories.correspondence', 'notifyUrl', 'extra']) assert.ok(fields.has(f), `missing ${f}`);
});

test('RULES 4: a purpose whose categories are all drop is refused, naming it', async () => {
  const fields = await rejects(agreementBody({ purposes: {
    advertising: { categories: { gender: 'drop', email: 'drop' } },
    service_delivery: { categories: { phone: 'clear', email: 'drop' } },
  } }), 'purposes.advertising.categories', /every category is drop.*RULES 4/);
  assert.ok(!fields.has('purposes.service_delivery.categories'), 'a purpose with one released category is fine');
});

test('RULES 15, 19: subProcessors are validated like countries and must stay within the agreement', async () => {
  await rejects(agreementBody({ subProcessors: [{ name: 'Hoster', country: 'EU', purpose: 'advertising' }] }), 'subProcessors.0.country', /ISO 3166-1 alpha-2/);
  await rejects(agreementBody({ subProcessors: [{ name: ' ', country: 'DE', purpose: 'advertising' }] }), 'subProcessors.0.name', /required/);
  await rejects(agreementBody({ subProcessors: [{ name: 'Hoster', country: 'DE', purpose: 'hosting' }] }), 'subProcessors.0.purpose', /purpose of the privacy policy/);
  await rejects(agreementBody({ subProcessors: [{ name: 'Hoster', country: 'DE', purpose: 'advertising', extra: 1 }] }), 'subProcessors.0.extra', /unknown field/);
  await rejects(agreementBody({ subProcessors: [{ name: 'Hoster', country: 'US', purpose: 'advertising' }] }), 'subProcessors.0.country', /processingCountries/);
  await rejects(agreementBody({ subProcessors: [{ name: 'Hoster', country: 'DE', purpose: 'contests' }] }), 'subProcessors.0.purpose', /agreement's purposes/);
  await rejects(agreementBody({ subProcessors: 'Hoster' }), 'subProcessors', /list/);
});

test('nothing was stored by the rejected requests: only the control version exists', async () => {
  const r = await api('GET', `/admin/v1/partners/${partner}/agreements`);
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.items.map((a: { version: number }) => a.version), [1]);
});
