// RULES 45 (OWASP API7 SSRF): partner webhooks go only to https:// hosts whose every resolved
// address is public. Names are resolved here, and the caller that delivers should connect to the
// addresses returned (not resolve again), so a name cannot be re-pointed after the check.
import { isIP } from 'node:net';
import { promises as dns } from 'node:dns';
import ipaddr from 'ipaddr.js';

export interface GuardOptions {
  /** Only tests turn this on (config notices.allowLoopbackWebhooks). */
  allowLoopback: boolean;
  timeoutMs?: number;
  lookup?: (host: string) => Promise<string[]>;
}
export type GuardResult = { ok: true; url: URL; addresses: string[] } | { ok: false; reason: string };

type Addr = ipaddr.IPv4 | ipaddr.IPv6;
const cidrs = (...list: string[]) => list.map((c) => ipaddr.parseCIDR(c));
const inAny = (a: Addr, list: Array<[Addr, number]>) => list.some(([net, bits]) => a.kind() === net.kind() && a.match(net, bits));

// Cloud metadata endpoints, checked first so the reason names them (they sit inside link-local,
// unique-local and CGNAT space too).
const METADATA = cidrs('169.254.169.254/32', 'fd00:ec2::254/128', '100.100.100.200/32');
// Deprecated site-local (RFC 3879): only recent ipaddr.js 2.x releases name it, so it is listed here too.
const SITE_LOCAL = cidrs('fec0::/10');
// IPv4-compatible IPv6 (RFC 4291 2.5.5.1, deprecated): ::a.b.c.d, which ipaddr.js calls unicast.
const IPV4_COMPATIBLE = cidrs('::/96');
// Benchmarking (RFC 2544) sits in ipaddr.js's IPv4 'reserved'; named apart for the reason's sake.
const BENCHMARKING_V4 = cidrs('198.18.0.0/15');

// RULES 45, deny by default: only what ipaddr.js classes as plain 'unicast' is public; every named
// special-purpose range (its IANA registries) is refused, the common ones under a specific name.
const NAMES: Record<string, string> = {
  loopback: 'a loopback', linkLocal: 'a link-local', private: 'a private', uniqueLocal: 'a private',
  carrierGradeNat: 'a carrier-grade NAT', multicast: 'a multicast', broadcast: 'a broadcast',
  unspecified: 'a reserved', reserved: 'a reserved', discard: 'a reserved',
  deprecatedSiteLocal: 'a site-local', rfc6052: 'a NAT64', rfc6145: 'an IPv4-translated', '6to4': 'a 6to4',
  teredo: 'a Teredo', benchmarking: 'a benchmarking',
};

/** 'a private' etc. for a non-public address, null for a public one. */
export function addressClass(address: string): string | null {
  // Only what node:net reads as an address is judged; anything else cannot be shown public.
  if (!isIP(address.replace(/%.*$/, ''))) return 'an unreadable';
  return classOf(ipaddr.parse(address));
}

function classOf(a: Addr): string | null {
  if (inAny(a, METADATA)) return 'a cloud metadata';
  if (inAny(a, BENCHMARKING_V4)) return 'a benchmarking';
  const range = a.range();
  if (a.kind() === 'ipv6') {
    const v6 = a as ipaddr.IPv6;
    // Judged by the IPv4 inside (::ffff:10.0.0.1 is private), and refused whatever it is: a
    // webhook has no reason to name an IPv4 host this way, and stacks differ on where it goes.
    if (range === 'ipv4Mapped') return embedded('IPv4-mapped', v6.toIPv4Address());
    if (range === 'unicast' && inAny(a, SITE_LOCAL)) return 'a site-local';
    if (range === 'unicast' && inAny(a, IPV4_COMPATIBLE)) return embedded('IPv4-compatible', new ipaddr.IPv4(v6.toByteArray().slice(12)));
  }
  if (range === 'unicast') return null;
  return NAMES[range] ?? 'a special-purpose';
}

function embedded(form: string, inner: ipaddr.IPv4): string {
  const c = classOf(inner);
  return c ? `${c} (${form})` : `an ${form}`;
}

async function resolve(host: string, opts: GuardOptions): Promise<string[]> {
  if (isIP(host)) return [host];
  const lookup = opts.lookup ?? (async (h: string) => (await dns.lookup(h, { all: true, verbatim: true })).map((a) => a.address));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error('timeout')), opts.timeoutMs ?? 2000); });
  try {
    return await Promise.race([lookup(host), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Sync part: an absolute https:// URL with a host and no credentials in it. */
export function httpsUrlProblem(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be an absolute https:// URL';
  }
  if (url.protocol !== 'https:') return 'must be an https:// URL (RULES 45: webhooks only over TLS)';
  if (url.username || url.password) return 'must not carry credentials';
  if (!url.hostname) return 'must name a host';
  return null;
}

export async function checkWebhookUrl(raw: string, opts: GuardOptions): Promise<GuardResult> {
  const bad = httpsUrlProblem(raw);
  if (bad) return { ok: false, reason: bad };
  const url = new URL(raw);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: string[];
  try {
    addresses = await resolve(host, opts);
  } catch {
    return { ok: false, reason: `host ${host} does not resolve (fail closed)` };
  }
  if (!addresses.length) return { ok: false, reason: `host ${host} does not resolve (fail closed)` };
  for (const a of addresses) {
    const cls = addressClass(a);
    if (!cls || (cls === 'a loopback' && opts.allowLoopback)) continue;
    return { ok: false, reason: `host ${host} resolves to ${cls} address (${a}); webhooks may only reach public addresses (RULES 45)` };
  }
  return { ok: true, url, addresses };
}
