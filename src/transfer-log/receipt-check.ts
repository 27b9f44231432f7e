// Receipt verification (issue 15 item 4): `POST /admin/v1/transfers/receipts/verify` and
// `partner-gateway log verify --receipt FILE`. A receipt proves inclusion when its signature is
// valid under a gateway key (current or retired) AND every entry it names is in the log with the
// same hash, linked as one chain run, released to that partner for that purpose. A signed entry
// that is gone or differs is tampering (DESIGN 10: the signature outlives whoever edits Redis),
// unless a signed `trim` checkpoint says retention removed it (RULES 49): then it is "trimmed".
import type { Redis } from '../deps.ts';
import { entryHash, type TransferEntry } from './entry.ts';
import { es256Verifier } from './jws-es256.ts';
import { jwsPayload } from './statement-signer.ts';
import type { Jwks } from './jwks.ts';
import type { LogKeys } from './keys.ts';
import { receiptSchema, RECEIPT_TYP, subjectsDigest, type Receipt, type ReceiptSegment } from './receipt.ts';
import { parseEntry, scanStream } from './scan.ts';
import { decodeRanges } from './seq-ranges.ts';

/**
 * Entries are found by time: a stream id carries the Redis clock when it was stored, `at` the
 * gateway's when it was sealed. They differ by queueing and clock skew, never by this much.
 */
export const LOOKUP_SLACK_MS = 5 * 60_000;

export interface ReceiptCheckDeps {
  redis: Redis;
  keys: LogKeys;
  jwks: Jwks;
  /** The subjectRef of the user a partner's pseudonym names (null: not one); absent where no pseudonym key is at hand. */
  subjectRefOf?: (subject: string, partnerId: string, keyVersion: number) => string | null;
}

export type ReceiptVerdict =
  | { ok: true; tampering: false; trimmed: false; kid: string; partnerId: string; purpose: string; requestId: string; entries: number; released: number; subjectChecked: boolean }
  | { ok: false; tampering: true; trimmed: false; kid: string; chain: string; seq: number; reason: string; detail: string }
  | { ok: false; tampering: false; trimmed: true; kid: string; chain: string; seq: number; detail: string };

/** A receipt that is not one, or whose signature no gateway key makes: refused, not checked further. */
export class InvalidReceipt extends Error {}

export function parseReceipt(jwks: Jwks, jws: string): { kid: string; receipt: Receipt } {
  const r = es256Verifier(jwks)(jws.trim());
  if (!r.ok) throw new InvalidReceipt(r.reason);
  const p = receiptSchema.safeParse(r.payload);
  if (r.typ !== RECEIPT_TYP || !p.success) throw new InvalidReceipt('not a transfer receipt');
  return { kid: r.kid, receipt: p.data };
}

/**
 * `subjects`: for a page receipt, the pseudonyms the partner received, in the order sent. They must
 * match the receipt's digest, and then each is checked against its entry like a single pull's.
 */
export async function checkReceipt(d: ReceiptCheckDeps, jws: string, subjects?: readonly string[]): Promise<ReceiptVerdict> {
  const { kid, receipt } = parseReceipt(d.jwks, jws);
  const single = 'entry' in receipt ? receipt.entry : null;
  if (subjects && ('entry' in receipt || subjectsDigest(subjects) !== receipt.subjects)) {
    throw new InvalidReceipt('subjects do not match the receipt (its digest, in the order sent)');
  }
  let nextSubject = 0;
  const segments: ReceiptSegment[] = 'entry' in receipt
    ? [{ chain: receipt.entry.chain, from: receipt.entry.seq, to: receipt.entry.seq, hash: receipt.entry.hash, firstAt: receipt.entry.at, lastAt: receipt.entry.at, released: String(receipt.entry.seq) }]
    : receipt.segments;
  const trims = await trimmedUpTo(d, new Set(segments.map((s) => s.chain)));
  let entries = 0;
  let released = 0;
  let subjectChecked = false;
  for (const s of segments) {
    const rel = decodeRanges(s.released);
    if (!rel || rel.some((q) => q < s.from || q > s.to)) throw new InvalidReceipt('released seqs outside the segment');
    const trimmed = trims.get(s.chain) ?? 0;
    if (s.from <= trimmed) {
      return { ok: false, tampering: false, trimmed: true, kid, chain: s.chain, seq: s.from,
        detail: `retention removed chain ${s.chain} up to seq ${trimmed} (signed trim checkpoint); inclusion can no longer be shown` };
    }
    const found = await findRun(d, s);
    const bad = (seq: number, reason: string, detail: string): ReceiptVerdict => ({ ok: false, tampering: true, trimmed: false, kid, chain: s.chain, seq, reason, detail });
    let prev: TransferEntry | undefined;
    for (let q = s.from; q <= s.to; q++) {
      const e = found.get(q);
      if (!e) return bad(q, 'entry_missing', `chain ${s.chain} seq ${q} is named by a valid receipt but is not in the log`);
      if (entryHash(e) !== e.hash) return bad(q, 'entry_altered', `chain ${s.chain} seq ${q} does not hash to its stored hash`);
      if (prev && e.prevHash !== prev.hash) return bad(q, 'chain_broken', `chain ${s.chain} seq ${q} does not follow seq ${q - 1}`);
      prev = e;
    }
    if (prev!.hash !== s.hash) return bad(s.to, 'hash_mismatch', `chain ${s.chain} seq ${s.to} has another hash than the receipt`);
    for (const q of rel) {
      const e = found.get(q)!;
      if (e.decision !== 'released' || e.partnerId !== receipt.partnerId || e.purpose !== receipt.purpose) {
        return bad(q, 'entry_differs', `chain ${s.chain} seq ${q} is not a release to this partner for this purpose`);
      }
    }
    if (subjects && d.subjectRefOf) {
      for (const q of rel) {
        const e = found.get(q)!;
        if (typeof e.keyVersion !== 'number' || d.subjectRefOf(subjects[nextSubject] ?? '', receipt.partnerId, e.keyVersion) !== e.subjectRef) {
          return bad(q, 'subject_differs', `chain ${s.chain} seq ${q} was for another subject`);
        }
        nextSubject++;
      }
      subjectChecked = true;
    }
    if (single) {
      const e = found.get(single.seq)!;
      if (e.id !== single.id || e.at !== single.at) return bad(single.seq, 'entry_differs', `chain ${s.chain} seq ${single.seq} has another id or time`);
      if (d.subjectRefOf && typeof e.keyVersion === 'number') {
        // The partner's pseudonym, decoded under the key version the entry records, must name the entry's user.
        if (d.subjectRefOf(single.subject, receipt.partnerId, e.keyVersion) !== e.subjectRef) {
          return bad(single.seq, 'subject_differs', `chain ${s.chain} seq ${single.seq} was for another subject`);
        }
        subjectChecked = true;
      }
    }
    entries += s.to - s.from + 1;
    released += rel.length;
  }
  return { ok: true, tampering: false, trimmed: false, kid, partnerId: receipt.partnerId, purpose: receipt.purpose, requestId: receipt.requestId, entries, released, subjectChecked };
}

/** Entries from..to of the segment's chain. A chain's stream order is its seq order, so the scan stops at `to`. */
async function findRun(d: ReceiptCheckDeps, s: ReceiptSegment): Promise<Map<number, TransferEntry>> {
  const found = new Map<number, TransferEntry>();
  const ms = (iso: string) => { const t = Date.parse(iso); return Number.isFinite(t) ? t : 0; };
  const min = String(Math.max(0, ms(s.firstAt) - LOOKUP_SLACK_MS));
  const max = String(ms(s.lastAt) + LOOKUP_SLACK_MS);
  for await (const raw of scanStream(d.redis, d.keys.chain(s.chain).entries, { direction: 'asc', min, max })) {
    const e = parseEntry(raw);
    if (!e || e.chain !== s.chain) continue;
    if (e.seq >= s.from && e.seq <= s.to) found.set(e.seq, e);
    if (e.seq >= s.to) break;
  }
  return found;
}

/** Per chain, the highest seq a validly signed trim checkpoint says retention removed. */
async function trimmedUpTo(d: ReceiptCheckDeps, chains: Set<string>): Promise<Map<string, number>> {
  const verify = es256Verifier(d.jwks);
  const out = new Map<string, number>();
  for (const chain of chains) for await (const raw of scanStream(d.redis, d.keys.chain(chain).checkpoints, { direction: 'asc' })) {
    const jws = raw.fields.jws ?? '';
    // Routed on the unverified payload; only a trim for a chain of interest is verified below.
    const cp = jwsPayload(jws) as { kind?: unknown; chain?: unknown; seq?: unknown } | null;
    if (cp?.kind !== 'trim' || typeof cp.chain !== 'string' || !chains.has(cp.chain) || !Number.isInteger(cp.seq)) continue;
    // Only a checkpoint the gateway signed may excuse a missing entry.
    const v = verify(jws);
    if (!v.ok || (v.payload as { typ?: unknown }).typ !== 'tlog-checkpoint') continue;
    out.set(cp.chain, Math.max(out.get(cp.chain) ?? 0, cp.seq as number));
  }
  return out;
}
