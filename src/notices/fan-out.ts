// RULES 12: a user's withdrawal or erasure reaches every partner that received the user's data —
// taken from the transfer log's recipients index — and only those, each under its own pseudonym.
// Pure: the recipients, agreements and pseudonyms come in as arguments.
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
  pseudonymFor(partnerId: string, userId: string): string;
}

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
    const notice = makeNotice(
      noticeId(`event:${ctx.eventId}`, r.partnerId, event.type), event.type,
      ctx.pseudonymFor(r.partnerId, event.userId), purposes, event.at,
    );
    out.push({ partnerId: r.partnerId, notice });
  }
  return out;
}
