// The projection compiler and its treatments (CONTRACT 2, RULES 4-5, 7, 28, 30).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { compileProjection, ProjectionCache, type Projection } from '../../src/policy/project.ts';
import { ipPrefix } from '../../src/policy/ip-prefix.ts';
import { browserFamily, osFamily } from '../../src/policy/user-agent.ts';
import { baseRecord } from './decision-fixtures.ts';
import { FIELD_KEY, FIELD_MAP, OTHER_KEY } from './projection-fixtures.ts';

const hmac = (key: Buffer, s: string) => createHmac('sha256', key).update(s).digest('base64url');
const project = (categories: Record<string, string | { treatment: string; justification?: string }>, record: unknown = baseRecord(), fieldMap = FIELD_MAP) =>
  compileProjection({ fieldMap, categories, fieldKey: FIELD_KEY })(record);

test('each treatment: clear as stored, generalise per category, pseudonymise keyed, drop and unnamed absent', () => {
  const out = project({
    phone: 'clear', email: 'pseudonymise', ip_address: 'generalise', geolocation: 'generalise',
    date_of_birth: 'generalise', visit_times: 'generalise', cookies: 'clear', gender: 'drop',
  });
  assert.deepEqual(out.data, {
    phone: '+77011234567',
    email: hmac(FIELD_KEY, 'a.user@example.kz'),
    ip_address: '95.56.12.0/24',
    geolocation: { lat: 43.2, lon: 76.9, country: 'KZ' },
    visit_times: ['2026-11-19', '2026-11-02'],
    cookies: { sid: 'f00dfeed', ga: 'GA1.2.123456789.1763540000' },
    date_of_birth: 1994,
  });
  assert.deepEqual(out.categories, ['phone', 'email', 'ip_address', 'geolocation', 'visit_times', 'cookies', 'date_of_birth']);
  assert.equal(out.dropped, 0);
});

test('IPv4 /24 and IPv6 /48 in canonical form, compressed or not', () => {
  const cases: [string, string][] = [
    ['95.56.12.7', '95.56.12.0/24'],
    ['2a03:32c0:1:abcd::5', '2a03:32c0:1::/48'],
    ['2A03:32C0:0001:0000:0000:0000:0000:0001', '2a03:32c0:1::/48'],
    ['2a03:32c0::1', '2a03:32c0::/48'],
    ['2001:db8:85a3:8d3:1319:8a2e:370:7348', '2001:db8:85a3::/48'],
    ['0:1::', '0:1::/48'],
    ['::1', '::/48'],
    ['::ffff:95.56.12.7', '::/48'],
    ['64:ff9b:1:2:3:4:1.2.3.4', '64:ff9b:1::/48'],
    ['fe80::1%eth0', 'fe80::/48'],
  ];
  for (const [ip, prefix] of cases) assert.equal(ipPrefix(ip), prefix, ip);
  for (const bad of ['999.1.1.1', '1.2.3', '95.56.12.07', '2a03::32c0::1', '2a03:32c0', 'localhost', '', 42]) {
    assert.equal(ipPrefix(bad), null, String(bad));
  }
});

test('RULES 30: browser and operating system generalise to family and major version', () => {
  const browsers: [string, string][] = [
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.129 Safari/537.36', 'Chrome 120'],
    ['Chrome 120.0.6099', 'Chrome 120'],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91', 'Edge 120'],
    ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15', 'Safari 17'],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0', 'Firefox 121'],
    ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1', 'Chrome 120'],
    ['Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36', 'Samsung Internet 23'],
    ['Firefox 131', 'Firefox 131'], ['Yandex 24.10', 'Yandex 24'], ['opera/114.0', 'Opera 114'],
  ];
  for (const [ua, family] of browsers) assert.equal(browserFamily(ua), family, ua);
  const systems: [string, string][] = [
    ['Windows NT 10.0', 'Windows 10'], ['Windows 10', 'Windows 10'], ['Windows NT 6.1', 'Windows 7'], ['Windows 8.1', 'Windows 8'],
    ['Mac OS X 10_15_7', 'macOS 10'], ['macOS 15', 'macOS 15'], ['Android 14', 'Android 14'], ['iOS 18.1', 'iOS 18'],
    ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15', 'iOS 17'],
    ['Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36', 'Android 14'], ['Ubuntu 24.04', 'Ubuntu 24'], ['X11; Linux x86_64', 'Linux'],
  ];
  for (const [ua, family] of systems) assert.equal(osFamily(ua), family, ua);
  for (const bad of ['Netscape Navigator 4', 'curl/8.4.0', 'BeOS R5', 'Windows NT 4.0', '', 'x'.repeat(600), 42, null, { family: 'Chrome' }]) {
    assert.equal(browserFamily(bad) ?? osFamily(bad), null, JSON.stringify(bad).slice(0, 40));
  }
  const ua = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.129 Safari/537.36';
  const out = project({ browser: 'generalise', operating_system: 'generalise' }, { ...baseRecord(), browser: ua, os: ua });
  assert.deepEqual(out.data, { browser: 'Chrome 120', operating_system: 'Windows 10' });
  const unknown = project({ browser: 'generalise', operating_system: 'generalise' }, { ...baseRecord(), browser: 'MyCorpBrowser build 7731', os: 'BeOS R5' });
  assert.deepEqual(unknown, { data: {}, categories: [], dropped: 2 }, 'unknown shapes are dropped and counted, never passed on');
});

test('RULES 30: clear on a quasi-identifier without a written justification is generalised; with one it is sent as stored', () => {
  const ua = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15';
  const record = { ...baseRecord(), browser: ua, os: 'Mac OS X 10_15_7' };
  const all = { date_of_birth: 'clear', geolocation: 'clear', ip_address: 'clear', visit_times: 'clear', browser: 'clear', operating_system: 'clear', phone: 'clear' };
  assert.deepEqual(project(all, record).data, {
    phone: '+77011234567', ip_address: '95.56.12.0/24', geolocation: { lat: 43.2, lon: 76.9, country: 'KZ' },
    visit_times: ['2026-11-19', '2026-11-02'], browser: 'Safari 17', operating_system: 'macOS 10', date_of_birth: 1994,
  });
  const blank = project({ ip_address: { treatment: 'clear', justification: '  ' }, browser: { treatment: 'clear' } }, record).data;
  assert.deepEqual(blank, { ip_address: '95.56.12.0/24', browser: 'Safari 17' }, 'a blank or missing justification is none');
  const why = 'fraud screening needs the full address';
  const justified = project({ ip_address: { treatment: 'clear', justification: why }, browser: { treatment: 'clear', justification: why } }, record).data;
  assert.deepEqual(justified, { ip_address: '95.56.12.7', browser: ua });
  assert.deepEqual(project({ date_of_birth: { treatment: 'drop' }, gender: 'clear' }, record).data, { gender: 'female' });
});

test('malformed store values are dropped and counted, never passed on', () => {
  const record = {
    ...baseRecord(),
    dateOfBirth: '1994-02-30', ipAddress: '999.1.1.1', geolocation: { lat: '43.2', lon: 76.9, country: 'KZ' },
    visits: ['2026-11-19T08:12:00Z', 'yesterday', 42, '2026-11-19T08:12:00'],
    cookies: { sid: Number.NaN },
  };
  const out = project({ date_of_birth: 'generalise', ip_address: 'generalise', geolocation: 'generalise', visit_times: 'generalise', cookies: 'clear', gender: 'clear' }, record);
  assert.deepEqual(out.data, { visit_times: ['2026-11-19'], gender: 'female' });
  assert.equal(out.dropped, 4 + 3, 'four bad values and three bad visit times');
  const geo = (g: unknown) => project({ geolocation: 'generalise' }, { ...baseRecord(), geolocation: g }).dropped;
  assert.equal(geo({ lat: 43.2, lon: 76.9 }), 1, 'no country');
  assert.equal(geo({ lat: 91, lon: 76.9, country: 'KZ' }), 1, 'off the globe');
  assert.equal(geo({ lat: 43.2, lon: 76.9, country: 'kz' }), 0);
});

test('pseudonymise is HMAC with the partner key; objects hash as canonical JSON', () => {
  const withKey = (key: Buffer, r: unknown) => compileProjection({ fieldMap: FIELD_MAP, categories: { phone: 'pseudonymise', cookies: 'pseudonymise' }, fieldKey: key })(r);
  const a = withKey(FIELD_KEY, baseRecord()).data;
  assert.equal(a.phone, hmac(FIELD_KEY, '+77011234567'));
  assert.equal(a.cookies, hmac(FIELD_KEY, '{"ga":"GA1.2.123456789.1763540000","sid":"f00dfeed"}'));
  const reordered = { ...baseRecord(), cookies: { sid: 'f00dfeed', ga: 'GA1.2.123456789.1763540000' } };
  assert.equal(withKey(FIELD_KEY, reordered).data.cookies, a.cookies);
  assert.notEqual(withKey(OTHER_KEY, baseRecord()).data.phone, a.phone, 'another partner, another value');
  assert.throws(() => compileProjection({ fieldMap: FIELD_MAP, categories: { phone: 'pseudonymise' }, fieldKey: Buffer.alloc(8) }));
});

test('no generalise outside its four categories, no unknown treatments, no correspondence by name', () => {
  const out = project({ phone: 'generalise', email: 'hash', username: 'CLEAR', correspondence: 'clear', messages: 'clear' });
  assert.deepEqual(out, { data: {}, categories: [], dropped: 0 });
});

test('policy 4.3: field-map pointers at or inside correspondence are removed before anything else', () => {
  const record = { ...baseRecord(), profile: { nick: 'ak', inbox: { last: 'hi' }, messages: [{ body: 'secret' }, { body: 'x' }] } };
  const fieldMap = {
    ...FIELD_MAP,
    correspondence: ['/correspondence', '/profile/messages/0', '/profile/inbox'],
    username: '/correspondence/0/subject',
    cookies: ['/correspondence', '/cookies'],
    avatar: '/profile',
  };
  const out = project({ username: 'clear', cookies: 'clear', avatar: 'clear' }, record, fieldMap);
  assert.deepEqual(out.data, {
    cookies: { sid: 'f00dfeed', ga: 'GA1.2.123456789.1763540000' },
    avatar: { nick: 'ak', messages: [{ body: 'x' }] },
  });
  // Even with no correspondence entry configured, /correspondence stays removed.
  const bare = project({ username: 'clear' }, record, { username: '/correspondence' });
  assert.deepEqual(bare.data, {});
});

test('pointers follow RFC 6901 and own properties only', () => {
  const record = { 'a/b': 'slash', 'm~n': 'tilde', list: ['zero', 'one'] };
  const out = project({ phone: 'clear', email: 'clear', username: 'clear', gender: 'clear', browser: 'clear' }, record, {
    phone: '/a~1b', email: '/m~0n', username: '/list/1', gender: '/__proto__', browser: '/constructor',
  });
  assert.deepEqual(out.data, { phone: 'slash', email: 'tilde', username: 'one' });
});

test('clear hands out a copy: changing the output does not touch the record', () => {
  const record = baseRecord();
  const out = project({ geolocation: { treatment: 'clear', justification: 'fraud checks need the exact place' } } as never, record);
  (out.data.geolocation as { city: string }).city = 'changed';
  assert.equal(record.geolocation.city, 'Almaty');
});

test('the cache compiles once per (agreement, version, purpose, key version) and invalidates by agreement', () => {
  const cache = new ProjectionCache();
  let compiles = 0;
  const compile = (): Projection => { compiles++; return () => ({ data: {}, categories: [], dropped: 0 }); };
  const key = { agreementId: 'agr_1', version: 1, purpose: 'advertising', keyVersion: 1 };
  const first = cache.get(key, compile);
  assert.equal(cache.get({ ...key }, compile), first);
  assert.equal(compiles, 1);
  cache.get({ ...key, version: 2 }, compile);
  cache.get({ ...key, keyVersion: 2 }, compile);
  cache.get({ ...key, agreementId: 'agr_10' }, compile);
  assert.equal(compiles, 4);
  cache.invalidate('agr_1');
  assert.equal(cache.size, 1, 'agr_10 survives invalidating agr_1');
  assert.notEqual(cache.get(key, compile), first);
  assert.equal(compiles, 5);
  const small = new ProjectionCache(2);
  for (const purpose of ['a', 'b', 'c']) small.get({ ...key, purpose }, compile);
  assert.equal(small.size, 2);
});
