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

// Issue [1/6] item 7d: one case per range the guard gained, each refused under its own name.
const NEW_RANGES = [
  ['https://[2002:5db8:d70e::1]/', '6to4', '2002::/16, even around a public IPv4'],
  ['https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/', 'Teredo', '2001::/32'],
  ['https://[fec0::1]/', 'site-local', 'fec0::/10'],
  ['https://[64:ff9b::808:808]/', 'NAT64', '64:ff9b::/96, even around 8.8.8.8'],
  ['https://[::ffff:10.0.0.1]/', 'private \\(IPv4-mapped\\)', '::ffff:0:0/96 judged by the IPv4 inside'],
  ['https://[::ffff:8.8.8.8]/', 'IPv4-mapped', '::ffff:0:0/96 around a public IPv4'],
  ['https://[::10.0.0.1]/', 'private \\(IPv4-compatible\\)', '::/96 judged by the IPv4 inside'],
  ['https://[::8.8.8.8]/', 'IPv4-compatible', '::/96 around a public IPv4'],
  ['https://100.64.0.1/', 'carrier-grade NAT', '100.64.0.0/10'],
  ['https://100.127.255.254/', 'carrier-grade NAT', '100.64.0.0/10, its top'],
  ['https://198.18.0.1/', 'benchmarking', '198.18.0.0/15'],
  ['https://198.19.255.254/', 'benchmarking', '198.18.0.0/15, its top'],
  ['https://224.0.0.1/', 'multicast', '224.0.0.0/4'],
  ['https://239.255.255.250/', 'multicast', '224.0.0.0/4, its top'],
  ['https://[ff02::1]/', 'multicast', 'ff00::/8'],
  ['https://[ff0e::1]/', 'multicast', 'ff00::/8, global scope'],
] as const;

test('6to4, Teredo, site-local, NAT64, IPv4-mapped and -compatible, CGNAT, benchmarking and multicast literals are refused', async () => {
  for (const [url, cls, what] of NEW_RANGES) {
    assert.match((await reason(url)) ?? 'passed', new RegExp(`resolves to an? ${cls} address`), `${url}: ${what}`);
  }
});

test('notices.allowLoopbackWebhooks lets loopback through and nothing else, not even loopback wrapped in IPv6', async () => {
  const tests = { allowLoopback: true };
  assert.equal(await reason('https://127.0.0.1/', tests), null);
  assert.equal(await reason('https://[::1]/', tests), null);
  for (const [url] of NEW_RANGES) assert.notEqual(await reason(url, tests), null, url);
  for (const url of ['https://[::ffff:127.0.0.1]/', 'https://[::127.0.0.1]/', 'https://[64:ff9b::7f00:1]/', 'https://[2002:7f00:1::1]/']) {
    assert.notEqual(await reason(url, tests), null, url);
  }
});

test('names resolving into the new ranges are refused too (every resolved address is judged)', async () => {
  for (const [addr, cls] of [['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'Teredo'], ['::ffff:192.168.1.1', 'private'], ['100.64.1.1', 'carrier-grade NAT']] as const) {
    const r = await checkWebhookUrl('https://partner.example/n', { allowLoopback: true, lookup: async () => ['93.184.215.14', addr] });
    assert.ok(!r.ok && r.reason.includes(cls), `${addr}: ${JSON.stringify(r)}`);
  }
  const ok = await checkWebhookUrl('https://partner.example/n', { allowLoopback: false, lookup: async () => ['93.184.215.14', '2606:4700::1111'] });
  assert.ok(ok.ok, 'control: public addresses pass');
});

test('https only, no credentials in the URL, and a name that does not resolve fails closed', async () => {
  assert.match((await reason('http://93.184.215.14/')) ?? '', /https/);
  assert.match((await reason('ftp://93.184.215.14/')) ?? '', /https/);
  assert.match((await reason('https://user:pw@93.184.215.14/')) ?? '', /credentials/);
  assert.match((await reason('https://no-such-host.invalid/')) ?? '', /does not resolve/);
});

test('addressClass: public addresses are null; IPv4-mapped forms are classed by their IPv4 and refused even when it is public', () => {
  assert.equal(addressClass('8.8.8.8'), null);
  assert.equal(addressClass('2606:4700::1111'), null);
  assert.equal(addressClass('2a00:1450:4001:80b::200e'), null);
  assert.equal(addressClass('::ffff:8.8.8.8'), 'an IPv4-mapped');
  assert.equal(addressClass('::ffff:a00:1'), 'a private (IPv4-mapped)');
  assert.equal(addressClass('::ffff:169.254.169.254'), 'a cloud metadata (IPv4-mapped)');
  assert.equal(addressClass('not-an-address'), 'an unreadable', 'what cannot be read is not public');
});
