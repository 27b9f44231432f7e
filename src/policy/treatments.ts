// CONTRACT 2 treatments. Each takes an already-copied JSON value and returns the value to send, or
// undefined when the stored value is malformed (then it is dropped and counted, never passed on).
import { createHmac } from 'node:crypto';
import { GENERALISABLE, type Category, type Treatment } from './taxonomy.ts';
import { canonicalJson, type Json } from './json-value.ts';
import { isoYear, parseInstant } from './instant.ts';
import { ipPrefix } from './ip-prefix.ts';
import { browserFamily, osFamily } from './user-agent.ts';

/** `onDrop` counts malformed parts a treatment leaves out of an otherwise good value (visit_times). */
export type Treat = (value: Json, onDrop: () => void) => Json | undefined;

const isRecord = (v: Json): v is { [key: string]: Json } => typeof v === 'object' && v !== null && !Array.isArray(v);
const round1 = (x: number) => Math.round(x * 10) / 10 + 0; // + 0 turns -0 into 0

/** RULES 30: about a 10 km cell plus the country; the city and exact coordinates stay home. */
function generaliseGeolocation(v: Json): Json | undefined {
  if (!isRecord(v)) return undefined;
  const { lat, lon, country } = v;
  if (typeof lat !== 'number' || typeof lon !== 'number' || Math.abs(lat) > 90 || Math.abs(lon) > 180) return undefined;
  if (typeof country !== 'string' || !/^[A-Za-z]{2}$/.test(country)) return undefined;
  return { lat: round1(lat), lon: round1(lon), country: country.toUpperCase() };
}

/** RULES 30: visit timestamps -> UTC day. Arrays stay arrays; a bad element is dropped and counted. */
function generaliseVisits(v: Json, onDrop: () => void): Json | undefined {
  const day = (x: Json) => {
    const t = parseInstant(x);
    return t === null ? undefined : new Date(t).toISOString().slice(0, 10);
  };
  if (!Array.isArray(v)) return day(v);
  const out: string[] = [];
  for (const x of v) {
    const d = day(x);
    if (d === undefined) onDrop();
    else out.push(d);
  }
  return out;
}

const GENERALISE: Record<string, Treat> = {
  date_of_birth: (v) => isoYear(v) ?? undefined, // RULES 30: birth year only
  geolocation: generaliseGeolocation,
  ip_address: (v) => ipPrefix(v) ?? undefined, // RULES 30: IPv4 /24, IPv6 /48
  visit_times: generaliseVisits,
  browser: (v) => browserFamily(v) ?? undefined, // RULES 30: family and major version only
  operating_system: (v) => osFamily(v) ?? undefined,
};

/**
 * RULES 28: a keyed one-way hash (HMAC-SHA-256, per-partner key), never a bare hash that could be
 * brute-forced from a phone number. Non-strings are hashed as canonical JSON.
 */
export function pseudonymiser(key: Buffer): Treat {
  if (!Buffer.isBuffer(key) || key.length < 32) throw new Error('pseudonymise needs a key of at least 256 bits');
  return (v) => createHmac('sha256', key).update(typeof v === 'string' ? v : canonicalJson(v), 'utf8').digest('base64url');
}

/** The treatment function for a category, or null when the category is not to be sent at all. */
export function treatmentFor(category: Category, treatment: unknown, fieldKey: Buffer): Treat | null {
  switch (treatment as Treatment) {
    case 'clear':
      return (v) => v; // the projection hands over a deep copy already
    case 'generalise':
      // CONTRACT 2 / RULES 30: generalise is defined for six categories only; elsewhere it is not a treatment.
      return GENERALISABLE.has(category) ? (GENERALISE[category] ?? null) : null;
    case 'pseudonymise':
      return pseudonymiser(fieldKey);
    default:
      return null; // drop, and anything unknown: deny by default
  }
}
