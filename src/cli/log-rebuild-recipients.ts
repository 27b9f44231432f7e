// partner-gateway log rebuild-recipients (issue 15 item 5): rebuild the recipients index (who
// received each user's data, which drives withdrawal notices, RULES 12) from the transfer log
// entries, after verifying the log with the gateway's keys; prints every record it changed, by
// subjectRef only. Exit 0 when the index now matches the entries, 1 otherwise (a broken log is
// never rebuilt from). Safe while gateways run: see src/transfer-log/rebuild-recipients.ts.
import { loadConfig } from '../config/load.ts';
import { logKeys } from '../transfer-log/keys.ts';
import { rebuildRecipients } from '../transfer-log/rebuild-recipients.ts';
import type { VerifyResult } from '../transfer-log/verify.ts';
import type { RecipientsDrift } from '../transfer-log/recipients-reconcile.ts';
import { auditedEval } from '../auth/admin-audit.ts';
import { REDIS_FILES, withRedis, cliActor } from './redis-session.ts';
import { gatewayJwks } from './log-verify.ts';

const item = (d: RecipientsDrift) => {
  const v = (x: RecipientsDrift['expected']) => (Array.isArray(x) ? x.join(',') : String(x));
  return `subject ${d.subjectRef}${d.partnerId ? ` partner ${d.partnerId}` : ''}: ${d.problem}`
    + `${d.expected !== undefined ? ` expected ${v(d.expected)}` : ''}${d.found !== undefined ? ` found ${v(d.found)}` : ''}`;
};

/** The recipients lines of `log verify` (and of a rebuild), empty when there is nothing to say. */
export function describeRecipients(r: VerifyResult): string {
  const x = r.recipients;
  if (!x) return '';
  const head = `\nrecipients index: ${x.subjects} records checked${x.trimmed ? ' (entries trimmed: only what the remaining entries prove is checked)' : ''}`;
  if (x.driftCount === 0) return `${head}, no drift`;
  const more = x.driftCount > x.drift.length ? `\n  ... and ${x.driftCount - x.drift.length} more` : '';
  return `${head}, ${x.driftCount} drift${x.repaired !== undefined ? ` (${x.repaired} records rewritten)` : ''}:\n${x.drift.map((d) => `  ${item(d)}`).join('\n')}${more}`;
}

export async function rebuildRecipientsCommand(env: NodeJS.ProcessEnv, json: boolean): Promise<number> {
  const config = loadConfig({ env, requireFiles: REDIS_FILES });
  const jwks = gatewayJwks(config.keys.dir);
  const out = await withRedis(config, 'rebuild the recipients index', async (redis, topology) => {
    const r = await rebuildRecipients(redis, logKeys(), jwks, topology);
    const x = r.ran ? r.result.recipients : undefined;
    // RULES 49: the index addresses withdrawal notices, so who rewrote it, and how much, is on the
    // admin audit trail (counts only; the records changed are printed to the operator).
    if (x && x.repaired) {
      await auditedEval(redis, `audit('transfer-log/recipients', '', ARGV[5]) return 1`, cliActor(), 'transfer_log.recipients.rebuild', [],
        [JSON.stringify({ subjects: x.subjects, drift: x.driftCount, repaired: x.repaired })]);
    }
    return r;
  });
  if (!out.ran) {
    console.error(`partner-gateway: recipients index not rebuilt: ${out.why}`);
    return 1;
  }
  const r = out.result;
  if (!r.recipients) {
    const b = r.brokenAt;
    console.error(`partner-gateway: the transfer log does not verify (chain ${b?.chain} seq ${b?.seq}: ${b?.reason}); the recipients index was not rebuilt from it`);
    return 1;
  }
  if (json) console.log(JSON.stringify(r.recipients));
  else console.log(`recipients index rebuilt from ${r.entries} entries${describeRecipients(r)}`);
  return r.recipients.ok ? 0 : 1;
}
