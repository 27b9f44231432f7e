// What the pull use cases need, built once per process from the dependencies.
import { createPseudonymizer } from '../pseudonym/subject.ts';
import { ProjectionCache } from '../policy/project.ts';
import { createEgressGuard, type EgressGuard } from '../policy/egress-guard.ts';
import type { FieldMapConfig } from '../policy/field-map.ts';
import type { ActiveAgreements } from '../agreements/active-cache.ts';
import type { TransferLog } from '../transfer-log/index.ts';
import type { Upstream } from '../upstream/client.ts';
import type { Config } from '../config/schema.ts';
import type { Metrics } from '../metrics.ts';
import type { Jurisdiction } from '../policy/decision-context.ts';
import type { DeletionItem } from '../notices/index.ts';
import type { SubjectQuota } from './subject-quota.ts';
import type { ReceiptSigner } from '../transfer-log/receipt.ts';
import { legalEntities, type LegalEntityOf, type PartnerReader } from './legal-entities.ts';

/** RULES 23: where each release's delete-by date goes (the notices service). */
export interface DeletionScheduler {
  scheduleDeletions(partnerId: string, purpose: string, items: readonly DeletionItem[], ownRetention?: boolean): Promise<void>;
}

/** RULES 50: where an egress-guard hit opens (or counts on) an incident; never throws, never waits. */
export interface IncidentReporter {
  report(r: { kind: 'egress_guard'; found: string; partnerId: string; requestId: string }): void;
}

/** DESIGN 8: whether a presented token (by hash) is still unrevoked; Redis errors reject. */
export interface TokenLiveness {
  live(hash: string): Promise<boolean>;
}

export interface PullServices {
  config: Config;
  agreements: ActiveAgreements;
  upstream: Upstream;
  transferLog: TransferLog;
  pseudonyms: ReturnType<typeof createPseudonymizer>;
  projections: ProjectionCache;
  guard: EgressGuard;
  incidents: IncidentReporter;
  metrics: Metrics;
  deletions: DeletionScheduler;
  tokens: TokenLiveness;
  /** RULES 6, 44: distinct subjects per partner, purpose and UTC day. */
  quota: SubjectQuota;
  /** Issue 15 item 4: the signed receipt each released answer carries. */
  receipts: ReceiptSigner;
  /** The pseudonym key version a partner's new pulls use, and the versions still accepted (RULES 29). */
  keyVersions(partnerId: string): { current: number; accepted: number[] };
  /** Home, adequacy entries and blocked countries in force now (RULES 15–17, 20). */
  jurisdiction(): Jurisdiction;
  /** RULES 48: the partner's legal entity (or name), for every entry. */
  legalEntity: LegalEntityOf;
  now(): Date;
}

export function createPullServices(p: {
  config: Config; agreements: ActiveAgreements; upstream: Upstream; transferLog: TransferLog;
  pseudonymMaster: Buffer; metrics: Metrics; canaries?: readonly string[]; deletions?: DeletionScheduler;
  tokens: TokenLiveness; quota: SubjectQuota; receipts: ReceiptSigner;
  keyVersions?: PullServices['keyVersions']; jurisdiction?: PullServices['jurisdiction']; now?: () => Date;
  partners: PartnerReader; incidents?: IncidentReporter;
}): PullServices {
  const projections = new ProjectionCache();
  // DESIGN 6: a changed agreement drops its compiled projections.
  p.agreements.onChange((partnerId) => projections.invalidate(`agr_${partnerId}`));
  return {
    config: p.config,
    agreements: p.agreements,
    upstream: p.upstream,
    transferLog: p.transferLog,
    pseudonyms: createPseudonymizer(p.pseudonymMaster),
    projections,
    guard: createEgressGuard({ fieldMap: p.config.fieldMap as FieldMapConfig, canaries: p.canaries ?? [] }),
    incidents: p.incidents ?? { report: () => undefined },
    metrics: p.metrics,
    deletions: p.deletions ?? { scheduleDeletions: async () => undefined },
    tokens: p.tokens,
    quota: p.quota,
    receipts: p.receipts,
    keyVersions: p.keyVersions ?? (() => ({ current: 1, accepted: [1] })),
    jurisdiction: p.jurisdiction ?? (() => p.config.jurisdiction),
    legalEntity: legalEntities(p.partners),
    now: p.now ?? (() => new Date()),
  };
}
