// Deterministic synthetic users for the reference core store: the same index and `now` always give
// the same record, so tests, the demo and benchmarks agree on the data without shipping a file.
import type { UserRecord } from './record.ts';
import { rngFor, type Rng } from './prng.ts';
import { DAY_MS, iso, syntheticState } from './synthetic-state.ts';
import * as V from './synthetic-vocab.ts';

export type { UserRecord } from './record.ts';

/** Fixed so the data does not drift with the wall clock; pass another `now` to shift every date. */
export const DEFAULT_NOW = new Date('2026-11-25T00:00:00Z');

// Separate PRNG streams: updatedAt must be computable without generating the whole record,
// so that `updatedSince` scans stay cheap.
const STREAM_RECORD = 1;
const STREAM_UPDATED = 2;

export function userIdAt(index: number): string {
  if (!Number.isSafeInteger(index) || index < 0) throw new RangeError(`bad user index ${index}`);
  return `u_${String(index).padStart(6, '0')}`;
}

/** The index behind a canonical id, or null; `u_0000123` is not `u_000123`'s alias. */
export function indexOfUserId(id: string): number | null {
  const m = /^u_(\d{6,15})$/.exec(id);
  if (!m) return null;
  const index = Number(m[1]);
  return userIdAt(index) === id ? index : null;
}

/** Spread over the 325 days before `now` (2026-01-04 .. 2026-11-25 with the default `now`). */
export function syntheticUpdatedAt(index: number, now: Date = DEFAULT_NOW): string {
  const r = rngFor(index, STREAM_UPDATED);
  return iso(now.getTime() - r.float() * 325 * DAY_MS);
}

function ipAddress(r: Rng): string {
  if (r.chance(0.25)) {
    const groups = Array.from({ length: 6 }, () => r.int(0, 0xffff).toString(16));
    return `${r.pick(V.IPV6_PREFIXES)}:${groups.join(':')}`;
  }
  return `${r.pick(V.IPV4_PREFIXES)}.${r.int(0, 255)}.${r.int(1, 254)}`;
}

function geolocation(r: Rng): UserRecord['geolocation'] {
  const [city, country, lat, lon] = r.pick(r.chance(0.88) ? V.KZ_CITIES : V.OTHER_CITIES);
  const jitter = () => (r.float() - 0.5) * 0.1;
  const round4 = (x: number) => Math.round(x * 10_000) / 10_000;
  return { lat: round4(lat + jitter()), lon: round4(lon + jitter()), city, country };
}

/** Visits end at lastActiveAt; searches happen during visits. Newest first. */
function activity(r: Rng, lastActive: number): Pick<UserRecord, 'visits' | 'searchHistory'> {
  const visits = [lastActive];
  for (let i = r.int(0, 5); i > 0; i--) visits.push((visits.at(-1) as number) - r.float() * 20 * DAY_MS);
  const searchHistory = Array.from({ length: r.int(0, 4) }, () => ({
    query: r.pick(V.SEARCHES),
    at: iso(r.pick(visits) + r.int(0, 1800) * 1000),
  })).sort((a, b) => b.at.localeCompare(a.at));
  return { visits: visits.map(iso), searchHistory };
}

/** At least one letter per user, each carrying a marker no other field contains (policy 4.3 tests). */
function correspondence(r: Rng, id: string, first: string, lastActive: number): UserRecord['correspondence'] {
  return Array.from({ length: r.int(1, 3) }, (_, n) => {
    const marker = `CORR-${id}-${n}-${r.hex(8)}`;
    const topic = r.pick(V.TOPICS);
    return {
      with: r.pick(V.CORRESPONDENTS),
      subject: `${topic} [${marker}]`,
      body: `Dear ${first[0]?.toUpperCase()}${first.slice(1)}, thank you for your letter about "${topic.toLowerCase()}". Reference ${marker}.`,
      at: iso(lastActive - r.float() * 400 * DAY_MS),
    };
  });
}

export function syntheticUser(index: number, now: Date = DEFAULT_NOW): UserRecord {
  const id = userIdAt(index);
  const r = rngFor(index, STREAM_RECORD);
  const state = syntheticState(r, now.getTime());
  const lastActive = Date.parse(state.lastActiveAt);
  const gender = r.chance(0.5) ? 'female' : 'male';
  const first = r.pick(gender === 'female' ? V.FEMALE_NAMES : V.MALE_NAMES);
  const surname = r.pick(V.SURNAMES);
  const birthYear = now.getUTCFullYear() - r.int(16, 75);
  const pad = (n: number) => String(n).padStart(2, '0');
  const seen = activity(r, lastActive);
  return {
    id,
    updatedAt: syntheticUpdatedAt(index, now),
    // 7919 is coprime with 10^7, so the first ten million users all get distinct numbers.
    phone: `+7701${String((index * 7919 + 1_234_567) % 10_000_000).padStart(7, '0')}`,
    email: `${first}.${surname}${index}@example.kz`,
    ipAddress: ipAddress(r),
    geolocation: geolocation(r),
    searchHistory: seen.searchHistory,
    visits: seen.visits,
    cookies: { sid: r.hex(32), ga: `GA1.2.${r.int(100_000_000, 999_999_999)}.${Math.floor(lastActive / 1000)}` },
    browser: r.pick(V.BROWSERS),
    os: r.pick(V.OPERATING_SYSTEMS),
    avatarUrl: `https://cdn.example.kz/a/${index}.png`,
    username: `${first}_${surname[0]}${index % 1000}`,
    gender,
    dateOfBirth: `${birthYear}-${pad(r.int(1, 12))}-${pad(r.int(1, 28))}`,
    consents: state.consents,
    policyAcceptance: state.policyAcceptance,
    lastActiveAt: state.lastActiveAt,
    userAgreement: state.userAgreement,
    correspondence: correspondence(r, id, first, lastActive),
  };
}
