// RULES 36: a certificate that expires within 30 days does not stop the gateway, but it is reported:
// a warning in the log, gateway_tls_certificate_days_left per setting, and a /readyz detail (still 200).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fetch } from 'undici';
import { startStack, type Stack } from './harness/stack.ts';
import { testCertWithValidity, validFor } from './harness/certs.ts';
import { checkCertificates } from '../src/tls/certificate-validity.ts';

let stack: Stack;
before(async () => {
  // Issued 300 days ago, 10 days left: within the 398-day ceiling, inside the 30-day warning window.
  const soon = await testCertWithValidity('ten-days-left', validFor(300, 10));
  stack = await startStack({ users: 10, extra: { server: { tls: soon } } });
});
after(() => stack.close());

test('the partner listener with a certificate 10 days from expiry serves, and /readyz stays 200 naming server.tls.cert', async () => {
  for (const base of [stack.url, stack.adminUrl]) {
    const res = await fetch(`${base}/readyz`, { dispatcher: stack.client });
    const body = (await res.json()) as { status: string; checks: Record<string, string>; certificatesExpiringSoon?: Array<{ setting: string; daysLeft: number; notAfter: string }> };
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(body.status, 'ready');
    assert.equal(body.checks.certificates, 'expiring_soon');
    assert.deepEqual(body.certificatesExpiringSoon?.map((c) => c.setting), ['server.tls.cert'], 'only the short one; admin.tls.cert is the 366-day dev certificate');
    const [c] = body.certificatesExpiringSoon!;
    assert.ok(c!.daysLeft >= 0 && c!.daysLeft < 30, `daysLeft ${c!.daysLeft}`);
  }
});

test('a warning names the setting in the log, and nothing of the certificate subject', () => {
  const warns = stack.logs.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => /certificate expires soon/.test(String(l.msg)));
  assert.deepEqual(warns.map((l) => l.setting), ['server.tls.cert']);
  assert.equal(warns[0]!.level, 40, 'warn');
  assert.ok(!JSON.stringify(warns).includes('CN='), 'no subject in the log');
});

test('gateway_tls_certificate_days_left reports each certificate setting on /metrics', async () => {
  const res = await fetch(`${stack.adminUrl}/metrics`, { dispatcher: stack.client, headers: { authorization: `Bearer ${stack.adminToken}` } });
  assert.equal(res.status, 200);
  const text = await res.text();
  const days = (setting: string) => {
    const m = text.match(new RegExp(`^gateway_tls_certificate_days_left\\{setting="${setting.replace(/\./g, '\\.')}"\\} (-?\\d+)$`, 'm'));
    assert.ok(m, `${setting} in ${text.split('\n').filter((l) => l.includes('certificate')).join('\n')}`);
    return Number(m[1]);
  };
  const server = days('server.tls.cert');
  assert.ok(server >= 0 && server < 30, `server.tls.cert ${server}`);
  for (const s of ['admin.tls.cert', 'upstream.tls.cert', 'redis.tls.cert']) assert.ok(days(s) > 300, s);
});

test('checkCertificates: a not-yet-valid certificate is refused naming the setting; 398 days is the longest accepted', async () => {
  const now = new Date();
  const future = await testCertWithValidity('future', validFor(-1, 100));
  assert.throws(() => checkCertificates([{ setting: 'redis.tls.cert', path: future.cert }], now), /redis\.tls\.cert: the certificate is not valid before /);
  const ceiling = await testCertWithValidity('ceiling', validFor(1, 397));
  assert.deepEqual(checkCertificates([{ setting: 'server.tls.cert', path: ceiling.cert }], now).map((c) => c.setting), ['server.tls.cert']);
  assert.throws(() => checkCertificates([{ setting: 'server.tls.cert', path: future.key }], now), /server\.tls\.cert: not a readable PEM certificate/);
});
