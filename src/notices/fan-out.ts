// RULES 12: a user's withdrawal or erasure reaches every partner that received the user's data —
// taken from the transfer log's recipients index — and only those, each under the pseudonym it
// received: one notice per pseudonym key version recorded in its log entries (after a rotation a
// partner may hold the user under several). Pure: recipients, agreements and pseudonyms come in.
import type { Recipient } from '../transfer-log/index.ts';
import type { AgreementVersion } from '../agreements/agreement-store.ts';
import { makeNotice, noticeId, type Addressed } from './notice.ts';

export type CoreEvent =
  | { type: 'consent_withdrawn'; userId: string; purposes: string[]; at: string }
  | { type: 'subject_erased'; userId: string; at: string }
  | { type: 'cross_border_withdrawn'; userId: string; at: string };

export interface FanOutContext {
  /** Idempotency: the same event id always yields the same notice ids. */
  eventId: string;
  /** The partner's current agreement (any status: a terminated partner may still hold data). */
  agreement(partnerId: string): AgreementVersion | undefined;
  home: string;
  /** The pseudonym under that key version; null: the partner's current one (an index from before [3/6]). */
  pseudonymFor(partnerId: string, userId: string, keyVersion: number | null): string;
}

/** An index written since [3/6] records key versions with every release; an older one does not. */
const fromEntries = (r: Recipient) => r.keyVersions.length > 0;

/** Which of what this partner received the event touches; empty: the partner is not concerned. */
export function affectedPurposes(event: CoreEvent, r: Recipient, ctx: FanOutContext): string[] {
  switch (event.type) {
    case 'consent_withdrawn': {
      // Withdrawing consent never touches data held under a legal obligation (KZ Art. 8(2)).
      const withdrawn = new Set(event.purposes.filter((p) => p !== 'legal_obligation'));
      return r.purposes.filter((p) => withdrawn.has(p));
    }
    case 'subject_erased':
      return r.purposes;
    case 'cross_border_withdrawn': {
      // By what was sent: the purposes released under a cross-border basis, whatever the
      // agreement names today (it may have been narrowed since; the partner still holds the data).
      if (fromEntries(r)) return r.crossBorderPurposes;
      const a = ctx.agreement(r.partnerId);
      // Unknown agreement: it may process abroad, and a needless notice harms no one.
      const abroad = !a || a.processingCountries.length === 0 || a.processingCountries.some((c) => c !== ctx.home);
      return abroad ? r.purposes : [];
    }
  }
}

export function fanOut(event: CoreEvent, recipients: readonly Recipient[], ctx: FanOutContext): Addressed[] {
  const out: Addressed[] = [];
  for (const r of recipients) {
    const purposes = affectedPurposes(event, r, ctx);
    if (!purposes.length) continue;
    // RULES 29: pseudonyms exist for positive integer key versions only; anything else falls back.
    const versions = r.keyVersions.filter((v): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0);
    for (const v of versions.length ? versions : [null]) {
      // The version is part of the id, so each pseudonym's notice is queued once however often the event comes.
      const source = v === null ? `event:${ctx.eventId}` : `event:${ctx.eventId}:v${v}`;
      const notice = makeNotice(noticeId(source, r.partnerId, event.type), event.type, ctx.pseudonymFor(r.partnerId, event.userId, v), purposes, event.at);
      out.push({ partnerId: r.partnerId, notice });
    }
  }
  return out;
}
