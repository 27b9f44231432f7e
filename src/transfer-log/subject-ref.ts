// subjectRef (CONTRACT 7): an ops-side keyed hash of the user id, so the log can find a user's
// entries without ever holding the id. RULES 28: never an unkeyed hash; RULES 27: the transfer-log
// key is its own secret, kept apart from the pseudonym keys, so a subjectRef never equals (or
// links to) any partner's pseudonym.
import { createHmac } from 'node:crypto';

// Domain separation: the same key could never yield this value for another use.
const DOMAIN = 'partner-gateway/transfer-log/subject-ref/v1\0';

export type SubjectRefFn = (userId: string) => string;

export function subjectRefFn(transferLogKey: Buffer): SubjectRefFn {
  if (transferLogKey.length < 32) throw new Error('transfer-log key must hold at least 256 bits');
  return (userId) => createHmac('sha256', transferLogKey).update(DOMAIN).update(userId, 'utf8').digest('base64url');
}
