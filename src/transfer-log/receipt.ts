// Receipts for partners (issue 15 item 4; RULES 48; CONTRACT 4, 7, 11). Every released answer
// carries a JWS by the gateway signing key (kid in the header; public part in
// /.well-known/jwks.json) naming its transfer log entries, so a partner can later prove what it
// received, when and under which entry, and an auditor can check the entry is still in the log.
//
// A receipt names the partner's pseudonym (`subject`), never the ops-side subjectRef: subjectRef is
// the same for a user across partners, and handing it out would link their pseudonyms (RULES 42).
//
// - entry (single pull): {id, chain, seq, hash, at, subject} of the one entry.
// - page (JSON page / NDJSON store page): the page's entries are sealed together on one chain, so
//   they form a run `from..to`; `hash` is the hash of `to`, which through the hash chain commits
//   to every entry of the run. `released` lists (as ranges) the seqs whose subjects were sent, and
//   `subjects` is SHA-256 over those subjects in the order sent, joined by "\n" (base64url), so a
//   partner holding the page can tie each subject to its seq. ~300 bytes for 1000 entries.
import { createHash, type JsonWebKey } from 'node:crypto';
import { z } from 'zod';
import type { TransferEntry } from './entry.ts';
import { es256Signer } from './jws-es256.ts';
import { encodeRanges } from './seq-ranges.ts';

/** In the payload (and the header's typ) so a checkpoint or a response JWS is never taken for a receipt. */
export const RECEIPT_TYP = 'transfer-receipt';

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const iso = z.string().max(40);
const seq = z.number().int().min(1);
const common = {
  typ: z.literal(RECEIPT_TYP), v: z.literal(1), partnerId: z.string().min(1).max(200), purpose: z.string().min(1).max(100),
  requestId: z.string().max(200), iat: z.number().int(),
};
const entryRef = z.object({ id: z.string().min(1).max(200), chain: z.string().min(1).max(100), seq, hash: hex64, at: iso, subject: z.string().min(1).max(1000) }).strict();
const segment = z.object({
  chain: z.string().min(1).max(100), from: seq, to: seq, hash: hex64, firstAt: iso, lastAt: iso, released: z.string().max(200_000),
}).strict().refine((s) => s.to >= s.from && s.to - s.from < 100_000, 'to must be from..from+99999');
export const receiptSchema = z.union([
  z.object({ ...common, entry: entryRef }).strict(),
  z.object({ ...common, segments: z.array(segment).min(1).max(1000), subjects: z.string().max(100) }).strict(),
]);
export type Receipt = z.infer<typeof receiptSchema>;
export type ReceiptSegment = Extract<Receipt, { segments: unknown }>['segments'][number];

export interface ReceiptContext { partnerId: string; purpose: string; requestId: string }

export interface ReceiptSigner {
  /** The Transfer-Receipt of one released entry. */
  entry(ctx: ReceiptContext, e: TransferEntry, subject: string): string;
  /** The receipt of a page: `entries` in log order, `subjects[i]` the pseudonym sent for entries[i] ('' if none); null if nothing was released. */
  page(ctx: ReceiptContext, entries: readonly TransferEntry[], subjects: readonly string[]): string | null;
}

export const subjectsDigest = (subjects: readonly string[]) => createHash('sha256').update(subjects.join('\n'), 'utf8').digest('base64url');

/** Maximal runs of consecutive seqs on one chain (one per page in practice). */
export function segmentsOf(entries: readonly TransferEntry[]): ReceiptSegment[] {
  const out: ReceiptSegment[] = [];
  let released: number[] = [];
  let cur: ReceiptSegment | null = null;
  const close = () => { if (cur) out.push({ ...cur, released: encodeRanges(released) }); };
  for (const e of entries) {
    if (!cur || cur.chain !== e.chain || e.seq !== cur.to + 1) {
      close();
      cur = { chain: e.chain, from: e.seq, to: e.seq, hash: e.hash, firstAt: e.at, lastAt: e.at, released: '' };
      released = [];
    }
    cur.to = e.seq;
    cur.hash = e.hash;
    cur.lastAt = e.at;
    if (e.decision === 'released') released.push(e.seq);
  }
  close();
  return out;
}

export function receiptSigner(signingJwk: JsonWebKey & { kid: string }, now = () => Date.now()): ReceiptSigner {
  const sign = es256Signer(signingJwk, RECEIPT_TYP);
  const common = (ctx: ReceiptContext) => ({
    typ: RECEIPT_TYP, v: 1, partnerId: ctx.partnerId, purpose: ctx.purpose, requestId: ctx.requestId, iat: Math.floor(now() / 1000),
  });
  return {
    entry: (ctx, e, subject) => sign({ ...common(ctx), entry: { id: e.id, chain: e.chain, seq: e.seq, hash: e.hash, at: e.at, subject } }),
    page(ctx, entries, subjects) {
      const sent = subjects.filter((s, i) => s !== '' && entries[i]!.decision === 'released');
      if (!sent.length) return null;
      return sign({ ...common(ctx), segments: segmentsOf(entries), subjects: subjectsDigest(sent) });
    },
  };
}
