// `partner-gateway log verify --receipt FILE` (issue 15 item 4): the receipt's signature under a
// gateway key (current or retired; or only those of --jwks), and every entry it names in the log
// with the same hash. Exit 0 when included, 1 on tampering, an invalid receipt or when it cannot
// check, 3 when retention removed the entries (a signed trim checkpoint says so: not tampering).
import { readFileSync } from 'node:fs';
import type { Redis } from '../deps.ts';
import type { Jwks } from '../transfer-log/jwks.ts';
import type { LogKeys } from '../transfer-log/keys.ts';
import { loadKeys } from '../keys/files.ts';
import { createPseudonymizer } from '../pseudonym/subject.ts';
import { subjectRefFn } from '../transfer-log/subject-ref.ts';
import { checkReceipt, InvalidReceipt, type ReceiptCheckDeps, type ReceiptVerdict } from '../transfer-log/receipt-check.ts';

export const TRIMMED_EXIT = 3;

export async function verifyReceiptFile(
  d: { redis: Redis; keys: LogKeys; jwks: Jwks; subjectRefOf?: ReceiptCheckDeps['subjectRefOf'] }, path: string, json: boolean,
): Promise<number> {
  let jws: string;
  try {
    jws = readFileSync(path, 'utf8').trim();
  } catch (e) {
    console.error(`partner-gateway: --receipt: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    return 1;
  }
  let v: ReceiptVerdict;
  try {
    v = await checkReceipt(d, jws);
  } catch (e) {
    if (!(e instanceof InvalidReceipt)) throw e;
    console.log(json ? JSON.stringify({ ok: false, invalid: true, reason: e.message }) : `receipt INVALID: ${e.message}`);
    return 1;
  }
  console.log(json ? JSON.stringify(v) : describe(v));
  return v.ok ? 0 : v.trimmed ? TRIMMED_EXIT : 1;
}

function describe(v: ReceiptVerdict): string {
  if (v.ok) return `receipt verified: signed by ${v.kid}; ${v.entries} entries in the log as signed, ${v.released} released to ${v.partnerId} for ${v.purpose}${v.subjectChecked ? ', subject checked' : ''}`;
  if (v.trimmed) return `receipt signed by ${v.kid}, entries trimmed: chain ${v.chain} seq ${v.seq}: ${v.detail}`;
  return `receipt signed by ${v.kid} but the log was TAMPERED WITH: chain ${v.chain} seq ${v.seq}: ${v.reason}: ${v.detail}`;
}

/** With the gateway's keys at hand, a single receipt's subject is checked against its entry too. */
export function receiptSubjects(keysDir: string): { subjectRefOf?: ReceiptCheckDeps['subjectRefOf'] } {
  let keys: ReturnType<typeof loadKeys>;
  try {
    keys = loadKeys(keysDir);
  } catch {
    return {}; // an auditor with only the public JWKS: signature and inclusion, not the subject
  }
  const pseudonyms = createPseudonymizer(keys.pseudonymMaster);
  const ref = subjectRefFn(keys.transferLog);
  return { subjectRefOf: (subject, partnerId, keyVersion) => { const u = pseudonyms.decode(subject, partnerId, [keyVersion]); return u ? ref(u.userId) : null; } };
}
