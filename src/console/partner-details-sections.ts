// Two read-mostly sections of the partner details page: who receives the partner's data, and its
// notice deliveries with the dead letters (each with a retry for admins). Ids, codes and states
// only: a notice's subject (the partner's pseudonym) is not shown (RULES 24).
import type { Partner } from '../agreements/partners.ts';
import type { AgreementVersion } from '../agreements/agreement-store.ts';
import type { DeliveryRow } from '../notices/queue.ts';
import { html, type Html } from './html.ts';
import { csrfField } from './layout.ts';
import type { Session } from './sessions.ts';

export interface DeadLetter { noticeId: string; partnerId: string; type: string; attempts: number; lastStatus: string; queuedAt: string; deadAt: string }

const time = (iso: string | null) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '—');

/** RULES 15, 19, 48: the receiving legal entity, where the data is processed and by which sub-processors. */
export function recipientsSection(p: Partner, a: AgreementVersion | undefined): Html {
  const le = p.legalEntity;
  return html`<section aria-labelledby="recipients"><h2 id="recipients">Recipients</h2>
<dl class="facts"><dt>Legal entity</dt><dd>${le ? `${le.name} (${le.country}${le.registrationNumber ? `, ${le.registrationNumber}` : ''})` : 'not registered: entries name the partner'}</dd>
<dt>Agreement in force</dt><dd>${a ? `${a.id} v${a.version} (${a.status})` : 'none'}</dd>
<dt>Processing countries</dt><dd>${a ? a.processingCountries.join(', ') : '—'}</dd>
<dt>Notices sent to</dt><dd>${a?.notifyUrl ? new URL(a.notifyUrl).host : 'pull only (GET /v1/notifications)'}</dd></dl>
<table><caption>Sub-processors: ${a?.subProcessors?.length ?? 0}</caption><thead><tr><th scope="col">Name</th><th scope="col">Country</th><th scope="col">Purpose</th></tr></thead>
<tbody>${(a?.subProcessors ?? []).map((x) => html`<tr><td>${x.name}</td><td>${x.country}</td><td>${x.purpose}</td></tr>`)}</tbody></table></section>`;
}

function state(n: DeliveryRow): string {
  if (n.ackAt) return `acknowledged (${n.ackBy ?? 'webhook'}) ${time(n.ackAt)}`;
  if (n.deadAt) return `dead letter since ${time(n.deadAt)}`;
  if (n.lastStatus === 'pull_only') return 'on the pull feed';
  return n.attempts ? `retrying (last: ${n.lastStatus ?? '—'})` : 'queued';
}

export function deliveriesSection(partnerId: string, s: Session, recent: DeliveryRow[], dead: DeadLetter[]): Html {
  const admin = s.staff.role === 'admin';
  return html`<section aria-labelledby="deliveries"><h2 id="deliveries">Notice deliveries</h2>
<table><caption>${recent.length ? `The ${recent.length} newest notices` : 'No notices sent to this partner'}</caption>
<thead><tr><th scope="col">Notice</th><th scope="col">Type</th><th scope="col">Purposes</th><th scope="col">At</th><th scope="col">Attempts</th><th scope="col">State</th></tr></thead>
<tbody>${recent.map((n) => html`<tr data-notice-id="${n.noticeId}"><th scope="row"><code>${n.noticeId}</code></th><td>${n.type}</td><td>${n.purposes.join(', ') || '—'}</td><td>${time(n.at)}</td><td>${n.attempts}</td><td${n.deadAt ? html` class="overdue"` : ''}>${state(n)}</td></tr>`)}</tbody></table>
<table id="dead-letters"><caption>Dead letters: ${dead.length}${dead.length ? ' (never acknowledged within notices.deadLetterAfterMs; RULES 23)' : ''}</caption>
<thead><tr><th scope="col">Notice</th><th scope="col">Type</th><th scope="col">Attempts</th><th scope="col">Last status</th><th scope="col">Queued</th><th scope="col">Dead since</th>${admin ? html`<th scope="col">Action</th>` : ''}</tr></thead>
<tbody>${dead.map((x) => html`<tr data-dead-id="${x.noticeId}"><th scope="row"><code>${x.noticeId}</code></th><td>${x.type}</td><td>${x.attempts}</td><td>${x.lastStatus}</td><td>${time(x.queuedAt)}</td><td>${time(x.deadAt)}</td>
${admin ? html`<td><form method="post" action="/console/partners/${partnerId}/notices/${x.noticeId}/retry">${csrfField(s)}<button type="submit">Retry</button></form></td>` : ''}</tr>`)}</tbody></table></section>`;
}
