// RULES 48: every transfer log entry names the partner's legal entity — the one registered with the
// partner, or the partner's name when none was. A partner record is never changed after it is
// registered (there is no update route), so each process reads it once per partner; a read that
// fails is not remembered, and the call fails closed (503) as any Redis read on this path does.
import type { LegalEntity } from '../transfer-log/entry.ts';
import { redisUnavailable } from '../http/problem.ts';

/** What this needs of the partner registry (Partners provides it). */
export interface PartnerReader {
  get(id: string): Promise<{ name: string; legalEntity?: { name: string; country: string; registrationNumber?: string | null } | null } | undefined>;
}

export type LegalEntityOf = (partnerId: string) => Promise<LegalEntity>;

export function legalEntities(partners: PartnerReader): LegalEntityOf {
  const known = new Map<string, Promise<LegalEntity>>();
  return (partnerId) => {
    let p = known.get(partnerId);
    if (!p) {
      p = partners.get(partnerId).then((partner) => {
        const e = partner?.legalEntity;
        if (e) return { name: e.name, country: e.country, registrationNumber: e.registrationNumber ?? null };
        // Unknown partner (a token outliving its partner cannot happen today): its id stands in.
        return { name: partner?.name ?? partnerId, country: null, registrationNumber: null };
      });
      known.set(partnerId, p);
      p.catch(() => known.delete(partnerId));
    }
    return p.catch(() => { throw redisUnavailable(); });
  };
}
