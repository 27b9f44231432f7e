// RULES 45 (OWASP API7 SSRF): partner webhooks go only to https:// hosts whose every resolved
// address is public. Names are resolved here, and the caller that delivers should connect to the
// addresses returned (not resolve again), so a name cannot be re-pointed after the check.
import { BlockList, isIP } from 'node:net';
import { promises as dns } from 'node:dns';

export interface GuardOptions {
  /** Only tests turn this on (config notices.allowLoopbackWebhooks). */
  allowLoopback: boolean;
  timeoutMs?: number;
  lookup?: (host: string) => Promise<string[]>;
}
export type GuardResult = { ok: true; url: URL; addresses: string[] } | { ok: false; reason: string };

function list(entries: Array<[string, number]>): BlockList {
  const b = new BlockList();
  for (const [net, prefix] of entries) b.addSubnet(net, prefix, net.includes(':') ? 'ipv6' : 'ipv4');
  return b;
}

// Checked in this order, so the reason names the most specific class. BlockList also matches
// IPv4-mapped IPv6 addresses (::ffff:10.0.0.1) against the IPv4 rules.
const CLASSES: Array<[string, BlockList]> = [
  ['a cloud metadata', list([['169.254.169.254', 32], ['fd00:ec2::254', 128], ['100.100.100.200', 32]])],
  ['a loopback', list([['127.0.0.0', 8], ['::1', 128]])],
  ['a link-local', list([['169.254.0.0', 16], ['fe80::', 10]])],
  ['a private', list([['10.0.0.0', 8], ['172.16.0.0', 12], ['192.168.0.0', 16], ['100.64.0.0', 10], ['fc00::', 7]])],
  ['a reserved', list([
    ['0.0.0.0', 8], ['192.0.0.0', 24], ['192.0.2.0', 24], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24],
    ['224.0.0.0', 4], ['240.0.0.0', 4], ['::', 128], ['::', 96], ['64:ff9b::', 96], ['64:ff9b:1::', 48], ['100::', 64],
    ['2001:db8::', 32], ['ff00::', 8],
  ])],
];

/** 'a private' etc. for a non-public address, null for a public one. */
export function addressClass(address: string): string | null {
  const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
  for (const [name, b] of CLASSES) if (b.check(address, family)) return name;
  return null;
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
