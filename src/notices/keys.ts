// Redis keys of the notices. One hash tag, so the scripts that touch several of them stay in one
// cluster slot. Nothing here holds a raw user id: subjects are the partners' pseudonyms.
import { NOTICES_TAG } from '../redis/keys.ts';

export interface NoticeKeys {
  /** Per partner: every notice, oldest first (stream); GET /v1/notifications reads it. */
  stream(partnerId: string): string;
  /** Set once per notice id (NX, with a TTL): the same notice is never queued twice. */
  seen(noticeId: string): string;
  /** Per delivery (`<partner>/<notice>`): notice, createdAt, attempts, lastStatus, ackAt (hash). */
  delivery(member: string): string;
  /** Webhook deliveries by next attempt time in ms (zset); survives restarts. */
  due: string;
  /** Deliveries given up after notices.deadLetterAfterMs (list, newest first). */
  dead: string;
  /** RULES 23: `<partner>/<subject>` by delete-by time in ms (zset) ... */
  deleteBy: string;
  /** ... and its `<deleteByIso> <purpose,purpose>` (hash). */
  deleteInfo: string;
  /** An event id's answer, for idempotent replays. */
  event(idHash: string): string;
  /** RULES 23: unconfirmed deletion notices (`<partner>/<notice>`) by confirmation deadline in ms (zset) ... */
  ackDue: string;
  /** ... those past it, still unconfirmed (zset, same scores) ... */
  overdue: string;
  /** ... the type of each notice in either (hash), so counts need no notice body ... */
  ackType: string;
  /** ... and how many are overdue per `<partner>|<type>` (hash), for the metric. */
  overdueCount: string;
}

// Issue 18: by default the control-plane tag, since a dead letter's retry is audited in one script.
export function noticeKeys(prefix = NOTICES_TAG): NoticeKeys {
  const p = `{${prefix}}`;
  return {
    stream: (id) => `${p}:s:${id}`,
    seen: (id) => `${p}:n:${id}`,
    delivery: (m) => `${p}:d:${m}`,
    due: `${p}:due`,
    dead: `${p}:dead`,
    deleteBy: `${p}:del`,
    deleteInfo: `${p}:deli`,
    event: (h) => `${p}:evt:${h}`,
    ackDue: `${p}:ackdue`,
    overdue: `${p}:overdue`,
    ackType: `${p}:acktype`,
    overdueCount: `${p}:overduen`,
  };
}

/** Partner ids are [a-z0-9_-], notice ids and pseudonyms base64url: `/` cannot occur in either. */
export const member = (partnerId: string, rest: string) => `${partnerId}/${rest}`;
export function splitMember(m: string): [string, string] {
  const i = m.indexOf('/');
  return [m.slice(0, i), m.slice(i + 1)];
}
