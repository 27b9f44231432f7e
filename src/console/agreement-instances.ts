// "Which version each running instance enforces" (issue 16 page 6): the heartbeats the gateway
// instances publish (agreements/instance-heartbeat.ts) set against the version in force in Redis.
// An instance whose cache is not ready, or that holds another version or status, is lagging: it
// says so in words, not only in colour.
import type { InstanceRecord } from '../agreements/instance-heartbeat.ts';
import { html, type Html } from './html.ts';

export interface InForce { version: number; status: string }

/** What `i` enforces for the partner, and whether that is behind the version in force. */
export function enforced(i: InstanceRecord, partnerId: string, inForce: InForce | undefined): { label: string; lagging: boolean } {
  if (!i.ready) return { label: 'cache reloading: enforces nothing', lagging: true };
  const h = i.agreements[partnerId];
  const label = h ? `v${h.version} ${h.status}` : 'none';
  const lagging = inForce ? !h || h.version !== inForce.version || h.status !== inForce.status : h !== undefined;
  return { label, lagging };
}

const cell = (e: { label: string; lagging: boolean }) => (e.lagging ? html`<td class="lagging">${e.label} <strong>lagging</strong></td>` : html`<td>${e.label}</td>`);

/** One agreement: each instance and the version it enforces. */
export function instancesForAgreement(instances: InstanceRecord[], partnerId: string, inForce: InForce | undefined): Html {
  if (!instances.length) return html`<p class="muted">No running instance has reported in the last heartbeat period.</p>`;
  return html`<table><caption>Running instances: the version each enforces (in force: ${inForce ? `v${inForce.version} ${inForce.status}` : 'none'})</caption>
<thead><tr><th scope="col">Instance</th><th scope="col">Started</th><th scope="col">Last heartbeat</th><th scope="col">Enforces</th></tr></thead>
<tbody>${instances.map((i) => html`<tr><th scope="row"><code>${i.id}</code></th><td>${i.startedAt}</td><td>${i.beatAt}</td>${cell(enforced(i, partnerId, inForce))}</tr>`)}</tbody></table>`;
}

/** Every instance, with how many agreements it lags on. */
export function instancesSummary(instances: InstanceRecord[], inForce: Map<string, InForce | undefined>): Html {
  if (!instances.length) return html`<p class="muted">No running instance has reported in the last heartbeat period.</p>`;
  return html`<table><caption>Running instances: ${instances.length}</caption>
<thead><tr><th scope="col">Instance</th><th scope="col">Started</th><th scope="col">Last heartbeat</th><th scope="col">Agreements held</th><th scope="col">Lagging on</th></tr></thead>
<tbody>${instances.map((i) => {
    const behind = [...inForce.entries()].filter(([p, f]) => enforced(i, p, f).lagging).map(([p]) => p);
    return html`<tr><th scope="row"><code>${i.id}</code></th><td>${i.startedAt}</td><td>${i.beatAt}</td><td>${i.ready ? Object.keys(i.agreements).length : 'cache reloading'}</td>
${behind.length ? html`<td class="lagging"><strong>lagging</strong> on ${behind.join(', ')}</td>` : html`<td>none</td>`}</tr>`;
  })}</tbody></table>`;
}
