// RULES 45: the webhook URL guard on its own, with the production setting (no loopback) and real
// name resolution: every resolved address must be public.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addressClass, checkWebhookUrl } from '../src/notices/url-guard.ts';

const prod = { allowLoopback: false };
const reason = async (url: string, opts = prod) => {
  const r = await checkWebhookUrl(url, opts);
  return r.ok ? null : r.reason;
};

test('a public https address passes (control)', async () => {
  const r = await checkWebhookUrl('https://93.184.215.14/notices', prod);
  assert.ok(r.ok);
  assert.deepEqual(r.ok && r.addresses, ['93.184.215.14']);
});

test('names are resolved: localhost is loopback and refused in production', async () => {
  assert.match((await reason('https://localhost:8443/n')) ?? '', /loopback address \(127\.0\.0\.1\)/);
  assert.equal(await reason('https://localhost:8443/n', { allowLoopback: true }), null, 'allowed only when the tests say so');
});

test('loopback, private, link-local, metadata and reserved literals are refused', async () => {
  for (const [url, cls] of [
    ['https://127.0.0.1/', 'loopback'], ['https://[::1]/', 'loopback'], ['https://[::ffff:127.0.0.1]/', 'loopback'],
    ['https://10.0.0.1/', 'private'], ['https://172.16.5.4/', 'private'], ['https://192.168.0.1/', 'private'], ['https://[fd12::1]/', 'private'],
    ['https://169.254.10.10/', 'link-local'], ['https://[fe80::1]/', 'link-local'],
    ['https://169.254.169.254/', 'metadata'], ['https://[fd00:ec2::254]/', 'metadata'], ['https://[::ffff:169.254.169.254]/', 'metadata'],
    ['https://0.0.0.0/', 'reserved'], ['https://[::]/', 'reserved'], ['https://2130706433/', 'loopback'],
  ] as const) assert.match((await reason(url)) ?? 'passed', new RegExp(cls), url);
});

test('https only, no credentials in the URL, and a name that does not resolve fails closed', async () => {
  assert.match((await reason('http://93.184.215.14/')) ?? '', /https/);
  assert.match((await reason('ftp://93.184.215.14/')) ?? '', /https/);
  assert.match((await reason('https://user:pw@93.184.215.14/')) ?? '', /credentials/);
  assert.match((await reason('https://no-such-host.invalid/')) ?? '', /does not resolve/);
});

test('addressClass: public addresses are null, IPv4-mapped forms are classed as their IPv4', () => {
  assert.equal(addressClass('8.8.8.8'), null);
  assert.equal(addressClass('2606:4700::1111'), null);
  assert.equal(addressClass('::ffff:8.8.8.8'), null);
  assert.equal(addressClass('::ffff:a00:1'), 'a private');
});
