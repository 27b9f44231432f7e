// POST /admin/v1/transfers/receipts/verify (issue 15 item 4; CONTRACT 5, 11): an auditor hands in a
// receipt a partner holds and learns whether the log still contains what it names. RULES 49: the
// auditor role only, and the check is itself logged — never the receipt, which names a pseudonym.
import { Router } from 'express';
import { z } from 'zod';
import { actorOf, type AdminAuth } from '../auth/admin-auth.ts';
import type { Logger } from '../log.ts';
import { InvalidReceipt, type ReceiptVerdict } from '../transfer-log/receipt-check.ts';
import type { ApiDoc } from './openapi.ts';
import { problem, ROLE_ERRORS } from './openapi-responses.ts';
import { receiptVerdict } from './transfers-responses.ts';
import { parseBody } from './field-errors.ts';
import { validationFailed } from './problem.ts';

export interface ReceiptsRouterDeps {
  /** Rejects with InvalidReceipt when it is not a receipt the gateway signed. */
  verifyReceipt(jws: string, subjects?: readonly string[]): Promise<ReceiptVerdict>;
  log: Logger;
}

/** The request body, also the console's receipt form (issue 16): one validation for both. */
export const receiptVerifyBody = z.object({
  receipt: z.string().min(1).max(90_000),
  // A page receipt's subjects as the partner received them, in order (a store page holds at most 1000).
  subjects: z.array(z.string().min(1).max(1000)).max(1000).optional(),
}).strict();

export function adminReceiptsRouter(d: ReceiptsRouterDeps, auth: AdminAuth, doc: ApiDoc): Router {
  const r = Router();
  doc.add('POST', '/admin/v1/transfers/receipts/verify', {
    summary: 'prove a partner\'s receipt (Transfer-Receipt header, or one of a page\'s receipts): its signature is valid under a gateway key, current or retired, '
      + 'AND every entry it names is in the transfer log with the same hash, chained, released to that partner for that purpose. For a page receipt, '
      + '`subjects` (optional: the pseudonyms the partner received on that page, in order) must match its digest, and each is then checked against its entry', auth: 'auditor', body: receiptVerifyBody,
    responses: {
      200: {
        description: 'the verdict: {ok: true, ...}: the log holds what the receipt names; {ok: false, tampering: true, reason (entry_missing | entry_altered | chain_broken | hash_mismatch | entry_differs | subject_differs)}: '
          + 'a receipt the gateway signed names an entry the log no longer has as signed; {ok: false, trimmed: true}: retention removed the entries (a signed trim checkpoint says so)',
        json: receiptVerdict, name: 'ReceiptVerdict',
      },
      400: problem(['validation_failed'], 'naming receipt (not a compact JWS, not a transfer receipt, or a signature no published gateway key makes) or subjects (not the receipt\'s)'),
      ...ROLE_ERRORS,
    },
  });
  r.post('/admin/v1/transfers/receipts/verify', auth.requireRole('auditor'), async (req, res) => {
    const { receipt, subjects } = parseBody(receiptVerifyBody, req.body);
    let verdict: ReceiptVerdict;
    try {
      verdict = await d.verifyReceipt(receipt, subjects);
    } catch (e) {
      if (e instanceof InvalidReceipt) throw validationFailed([{ field: /^subjects /.test(e.message) ? 'subjects' : 'receipt', reason: e.message }]);
      throw e;
    }
    const where = verdict.ok ? {} : { chain: verdict.chain, seq: verdict.seq };
    d.log.info({ requestId: res.locals.requestId, actor: actorOf(res), action: 'transfers.receipts.verify', ok: verdict.ok, tampering: verdict.tampering, trimmed: verdict.trimmed, ...where }, 'transfer log read');
    res.set('Cache-Control', 'no-store').json(verdict);
  });
  return r;
}
