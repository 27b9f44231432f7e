// RULES 30 for the access-denial record: a caller is kept as its /24 (IPv4) or /48 (IPv6) only.
// Node reports IPv4 callers on a dual-stack socket as ::ffff:a.b.c.d; those are IPv4 callers.
import { ipPrefix } from '../policy/ip-prefix.ts';

export function addressPrefix(address: string | undefined): string | null {
  if (!address) return null;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return ipPrefix(mapped ? mapped[1] : address);
}
