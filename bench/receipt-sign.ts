// Receipt signing cost (issue 15 item 4), in-process CPU time, steadier than the full-path
// bench on a shared machine: `node --import tsx bench/receipt-sign.ts`. Prints the CPU of one
// single-pull receipt, of one 1000-entry page receipt, and of node-jose signing the same payload.
import jose from 'node-jose';
import { receiptSigner } from '../src/transfer-log/receipt.ts';
import { newSigningJwk } from '../src/keys/files.ts';
import type { TransferEntry } from '../src/transfer-log/entry.ts';

const key = newSigningJwk();
const sign = receiptSigner(key);
const ctx = { partnerId: 'bench', purpose: 'service_delivery', requestId: 'b3f1c2d4-0a1b-4c5d-8e9f-0123456789ab' };
const e = { id: 'tr_0123456789abcdef01234567', chain: 'AbCdEfGhIjKl', seq: 12345, hash: 'a'.repeat(64), at: new Date().toISOString(), decision: 'released' } as TransferEntry;
const subject = `v1.${'x'.repeat(60)}`;
const page = Array.from({ length: 1000 }, (_, i) => ({ ...e, seq: 1 + i, decision: i % 7 ? 'released' : 'denied' }) as TransferEntry);
const subjects = page.map((x, i) => (x.decision === 'released' ? `v1.s${i}` : ''));
const cpuUs = async (n: number, f: () => unknown) => {
  const t = process.cpuUsage();
  for (let i = 0; i < n; i++) await f();
  const u = process.cpuUsage(t);
  return (u.user + u.system) / n;
};
const k = await jose.JWK.asKey(key as object);
for (const round of [1, 2, 3]) {
  const one = await cpuUs(5000, () => sign.entry(ctx, e, subject));
  const many = await cpuUs(200, () => sign.page(ctx, page, subjects));
  const nj = await cpuUs(300, () => jose.JWS.createSign({ format: 'compact', fields: { alg: 'ES256', kid: key.kid } }, k).update(JSON.stringify({ ctx, e, subject }), 'utf8').final());
  console.log(`round ${round}: single-pull receipt ${one.toFixed(1)} us CPU (${sign.entry(ctx, e, subject).length} B); `
    + `1000-entry page receipt ${many.toFixed(0)} us (${(many / 1000).toFixed(2)} us/entry, ${sign.page(ctx, page, subjects)!.length} B); node-jose ES256 sign ${nj.toFixed(0)} us`);
}
