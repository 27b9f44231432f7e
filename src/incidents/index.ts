// The breach clock (RULES 50) as the app uses it: detections (an egress-guard hit, a failed verify,
// an anchor mismatch) `report` an incident without delaying or failing the refusal that found it;
// a newly opened one raises the open-incidents metric, is posted to the ops webhook and shows in
// /readyz; admins acknowledge it (audited). Listing is for admins and auditors.
import type { Redis } from '../deps.ts';
import type { Logger } from '../log.ts';
import type { Actor } from '../auth/roles.ts';
import { IncidentStore } from './store.ts';
import { IncidentNotifier, type NotifierDeps } from './notifier.ts';
import type { Incident, IncidentReport } from './incident.ts';

export interface IncidentsOptions {
  notifyWithinHours: number;
  /** The ops webhook; absent: none configured. */
  notifier?: Omit<NotifierDeps, 'get' | 'recorded' | 'log'>;
  /** Counts each newly opened incident (metric). */
  onOpened?: (kind: string) => void;
  now?: () => Date;
}

export interface Incidents {
  /** Fire and forget: open (or count on) an incident. */
  report(r: IncidentReport): void;
  /** Open (or count on) an incident and wait for it. */
  open(r: IncidentReport): Promise<{ opened: boolean; id: string }>;
  get(id: string): Promise<Incident | undefined>;
  list: IncidentStore['list'];
  openCount(): Promise<number>;
  acknowledge(actor: Actor, id: string): Promise<'ok' | 'not_found' | 'not_open'>;
  /** Resolves once every report so far is written (tests, shutdown). */
  settled(): Promise<void>;
  close(): Promise<void>;
}

export function createIncidents(redis: Redis, log: Logger, o: IncidentsOptions): Incidents {
  const store = new IncidentStore(redis);
  const now = o.now ?? (() => new Date());
  const notifier = o.notifier ? new IncidentNotifier({ ...o.notifier, log, get: (id) => store.get(id), recorded: (id, s, at) => store.recordWebhook(id, s, at) }) : null;
  const pending = new Set<Promise<unknown>>();
  const open = async (r: IncidentReport) => {
    const out = await store.open(r, now(), o.notifyWithinHours);
    if (out.opened) {
      o.onOpened?.(r.kind);
      // Ids and codes only (RULES 24): the finding, never a payload or a canary.
      log.error({ incidentId: out.id, kind: r.kind, found: r.found, partnerId: r.partnerId ?? null, chain: r.chain ?? null }, 'incident opened (RULES 50: breach clock running)');
      notifier?.notify(out.id);
    }
    return out;
  };
  return {
    report(r) {
      const p = open(r).catch((e: unknown) => log.error({ kind: r.kind, err: { name: (e as Error)?.name } }, 'incident could not be recorded'));
      pending.add(p);
      void p.finally(() => pending.delete(p));
    },
    open,
    get: (id) => store.get(id),
    list: (opts) => store.list(opts),
    openCount: () => store.openCount(),
    acknowledge: (actor, id) => store.acknowledge(actor, id, now()),
    async settled() { await Promise.all([...pending]); },
    async close() {
      await Promise.all([...pending]);
      notifier?.close();
    },
  };
}

export type { Incident, IncidentReport, IncidentKind } from './incident.ts';
export { fromVerify, INCIDENT_KINDS } from './incident.ts';
