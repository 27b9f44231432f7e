// Every console action lands in the admin audit (issue 16), with the staff identity and role: the
// same Redis stream the admin API writes (auth/admin-audit.ts). Reads of the transfer log are also
// logged as 'transfer log read', like the API's (RULES 49), with a subject only as its subjectRef.
import type { Redis } from '../deps.ts';
import { auditedEval } from '../auth/admin-audit.ts';
import type { Logger } from '../log.ts';
import type { TransferFilter } from '../transfer-log/index.ts';
import type { Staff } from './sessions.ts';

// A console action changes nothing by itself: the script only appends the audit entry.
const NOTE = `
audit(ARGV[5], '', ARGV[6])
return {1}`;

export interface ConsoleAudit {
  /** Append `action` on `target` by `staff` to the admin audit. `detail` holds ids and codes only. */
  record(staff: Staff, action: string, target: string, detail?: Record<string, unknown>): Promise<void>;
  /** A transfer log read: the pino line the API writes, and the admin audit entry. */
  logRead(staff: Staff, requestId: unknown, action: string, filter?: TransferFilter & { country?: string }, extra?: Record<string, string>): Promise<void>;
}

export interface ConsoleAuditDeps {
  redis: Redis;
  log: Logger;
  subjectRef: (userId: string) => string;
  /** An unregistered partner id is whatever was typed: it is not logged (RULES 24). */
  partnerExists: (id: string) => Promise<boolean>;
}

export function consoleAudit({ redis, log, subjectRef, partnerExists }: ConsoleAuditDeps): ConsoleAudit {
  const record: ConsoleAudit['record'] = async (staff, action, target, detail = {}) => {
    const after = JSON.stringify({ via: 'console', staff: { id: staff.id, name: staff.name, role: staff.role, signIn: staff.via }, ...detail });
    await auditedEval(redis, NOTE, { tokenId: staff.id, role: staff.role }, action, [], [target, after]);
  };
  return {
    record,
    async logRead(staff, requestId, action, f = {}, extra = {}) {
      const { subject, partnerId, ...rest } = f;
      const filter: Record<string, unknown> = { ...rest };
      if (partnerId !== undefined) filter.partnerId = (await partnerExists(partnerId)) ? partnerId : '(unregistered)';
      if (subject !== undefined) filter.subjectRef = subjectRef(subject);
      log.info({ requestId, actor: { tokenId: staff.id, role: staff.role, via: 'console' }, action, filter, ...extra }, 'transfer log read');
      await record(staff, action, 'transfer-log', { filter, ...extra });
    },
  };
}
