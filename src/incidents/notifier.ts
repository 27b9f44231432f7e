// RULES 50: an opened incident is posted to the ops webhook (incidents.webhookUrl), signed by the
// gateway like a partner notice, through the same guard as partner webhooks (RULES 45: https only,
// public addresses after DNS, pinned connection, no redirects; RULES 34: TLS verified). A failed
// post is retried with backoff (notices.retryBaseMs..retryMaxMs) while the incident stays open.
import type { Logger } from '../log.ts';
import { postNotice, type WebhookOptions } from '../notices/webhook.ts';
import type { Incident } from './incident.ts';

export interface NotifierDeps {
  url: string;
  webhook: WebhookOptions;
  sign: (payload: object) => Promise<string>;
  get: (id: string) => Promise<Incident | undefined>;
  recorded: (id: string, status: string, at: Date) => Promise<void>;
  log: Logger;
  retryBaseMs: number;
  retryMaxMs: number;
}

/** What ops receives: the incident, no personal data in it by construction (incident.ts). */
const payload = (i: Incident) => ({ typ: 'incident', incident: i });

export class IncidentNotifier {
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(private readonly d: NotifierDeps) {}

  /** Post now, then again after each failure until delivered, acknowledged, or closed. */
  notify(id: string, attempt = 0): void {
    if (this.closed) return;
    void this.attempt(id, attempt).catch((e: unknown) => this.d.log.warn({ incidentId: id, err: { name: (e as Error)?.name } }, 'incident webhook attempt failed'));
  }

  private async attempt(id: string, attempt: number): Promise<void> {
    const inc = await this.d.get(id);
    if (!inc || inc.status !== 'open' || this.closed) return;
    const r = await postNotice(this.d.url, await this.d.sign(payload(inc)), this.d.webhook);
    const status = r.ok ? 'delivered' : r.status;
    await this.d.recorded(id, status, new Date());
    if (r.ok) return;
    this.d.log.warn({ incidentId: id, status: r.status, reason: r.reason }, 'incident webhook not delivered; retrying');
    const wait = Math.min(this.d.retryBaseMs * 2 ** attempt, this.d.retryMaxMs);
    const t = setTimeout(() => { this.timers.delete(t); this.notify(id, attempt + 1); }, wait);
    t.unref();
    this.timers.add(t);
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
