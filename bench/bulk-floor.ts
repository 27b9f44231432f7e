// Issue 17 (bulk target; must show "the measured reason it cannot be"): the least CPU any gateway
// that keeps the contract spends on one bulk record, before any policy check, TLS or socket work:
// parse the store's page, name the subject for the partner (pseudonym, CONTRACT 4) and for the log
// (subjectRef, RULES 27), seal a hash-chained log entry (issue 5) and write the NDJSON line. Each
// part runs in this process on a real page of the reference store, with the gateway's own code, and
// is reported as CPU per record, to set against the store's own CPU per record in the same run.
import { randomBytes } from 'node:crypto';
import { Pool } from 'undici';
import { clientTlsOptions, type TlsFiles } from '../src/tls/options.ts';
import { createPseudonymizer } from '../src/pseudonym/subject.ts';
import { subjectRefFn } from '../src/transfer-log/subject-ref.ts';
import { GENESIS, sealEntryText, type EntryBody } from '../src/transfer-log/entry.ts';

export interface FloorResult { records: number; parts: Array<[string, number]>; totalUs: number }

/** One page of the store, as the gateway receives it (text). */
export async function storePage(url: string, tls: TlsFiles, limit = 1000): Promise<string> {
  const pool = new Pool(url, { connections: 1, connect: clientTlsOptions(tls) });
  try {
    const res = await pool.request({ path: `/users?limit=${limit}`, method: 'GET' });
    if (res.statusCode !== 200) throw new Error(`store answered ${res.statusCode}`);
    return await res.body.text();
  } finally {
    await pool.close();
  }
}

const cpuUs = (f: () => void, rounds: number): number => {
  const t = process.cpuUsage();
  for (let i = 0; i < rounds; i++) f();
  const u = process.cpuUsage(t);
  return u.user + u.system;
};

export function bulkFloor(pageText: string, rounds = 20): FloorResult {
  const items = (JSON.parse(pageText) as { items: Array<Record<string, unknown>> }).items;
  const ids = items.map((r) => String(r.id));
  const pseudonyms = createPseudonymizer(randomBytes(32));
  const ref = subjectRefFn(randomBytes(32));
  const names = ids.map((id) => pseudonyms.encode(id, 'p_bench', 1));
  const refs = ids.map(ref);
  const at = new Date().toISOString();
  // The bench agreement's five categories (bench/client.ts), as they come from the store: the
  // treatments' own work (generalising, pseudonymising a field) is policy, not counted here.
  const data = items.map((r) => ({ phone: r.phone, email: r.email, ip_address: r.ipAddress, date_of_birth: r.dateOfBirth, gender: r.gender }));
  // The entry as the pull builds it (src/transfers/evaluate.ts logEntry); its subjectRef is counted above.
  const body = (n: number): EntryBody => ({
    id: '6f1c1d2e-0000-4000-8000-000000000001', at, requestId: 'req-bench', partnerId: 'p_bench',
    agreementId: 'agr_p_bench', agreementVersion: 1, purpose: 'service_delivery', subjectRef: refs[n]!, decision: 'released', reason: null,
    categories: ['phone', 'email', 'ip_address', 'date_of_birth', 'gender'], destinationCountries: ['KZ'], legalBasis: 'contract', crossBorderBasis: 'domestic', policyVersion: '2024-03',
    keyVersion: 1, tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', clientCertThumbprint: null }, deleteBy: '2027-01-15T00:00:00.000Z',
    legalEntity: { name: 'Bench Partner LLP', country: 'KZ', registrationNumber: '123456789012' }, consent: null,
    crossBorderConsent: null, adequacyListVersion: null,
  });
  const parts: Array<[string, () => void]> = [
    ['parse the store page (JSON.parse)', () => { JSON.parse(pageText); }],
    ['pseudonym for the partner (AES-SIV)', () => { for (const id of ids) pseudonyms.encode(id, 'p_bench', 1); }],
    ['subjectRef for the log (HMAC)', () => { for (const id of ids) ref(id); }],
    ['seal the log entry (canonical JSON, SHA-256)', () => { let prev = GENESIS; ids.forEach((_, n) => { prev = sealEntryText(body(n), 'bench', n + 1, prev).entry.hash; }); }],
    ['write the NDJSON line (JSON.stringify)', () => { items.forEach((_, n) => JSON.stringify({ subject: names[n], purpose: 'service_delivery', data: data[n] })); }],
  ];
  for (const [, f] of parts) cpuUs(f, 2); // warm up
  const measured = parts.map(([name, f]) => [name, cpuUs(f, rounds) / rounds / items.length] as [string, number]);
  return { records: items.length, parts: measured, totalUs: measured.reduce((s, [, us]) => s + us, 0) };
}
