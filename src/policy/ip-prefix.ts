// RULES 30: IPv4 -> /24, IPv6 -> /48. node:net isIP decides what is an address; the IPv6 prefix is
// printed in RFC 5952 canonical form, so compressed, mixed-case and IPv4-embedded inputs agree.
import { isIP } from 'node:net';

/** The eight 16-bit groups of a valid IPv6 address (zone removed), or null. */
function ipv6Groups(address: string): number[] | null {
  let s = address.split('%')[0] ?? '';
  const lastColon = s.lastIndexOf(':');
  const tail = s.slice(lastColon + 1);
  if (tail.includes('.')) {
    // IPv4-embedded form (::ffff:1.2.3.4): the dotted quad is the last two groups.
    if (isIP(tail) !== 4) return null;
    const [a, b, c, d] = tail.split('.').map(Number) as [number, number, number, number];
    s = `${s.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const part = (h: string | undefined) => (h ? h.split(':') : []);
  const left = part(halves[0]);
  const right = part(halves[1]);
  const missing = 8 - left.length - right.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const all = [...left, ...Array<string>(Math.max(missing, 0)).fill('0'), ...right];
  if (!all.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return null;
  return all.map((g) => parseInt(g, 16));
}

/** RFC 5952: lower-case, no leading zeros, the longest run (>= 2, first on a tie) of zero groups as "::". */
export function formatIpv6(groups: readonly number[]): string {
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < groups.length; ) {
    let j = i;
    while (j < groups.length && groups[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = (gs: readonly number[]) => gs.map((g) => g.toString(16)).join(':');
  if (best < 0) return hex(groups);
  return `${hex(groups.slice(0, best))}::${hex(groups.slice(best + bestLen))}`;
}

/** "a.b.c.0/24" or "x:y:z::/48"; null for anything that is not an IP address. */
export function ipPrefix(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const kind = isIP(value);
  if (kind === 4) {
    const [a, b, c] = value.split('.').map(Number);
    return `${a}.${b}.${c}.0/24`;
  }
  if (kind !== 6) return null;
  const groups = ipv6Groups(value);
  if (!groups) return null;
  return `${formatIpv6([...groups.slice(0, 3), 0, 0, 0, 0, 0])}/48`;
}
