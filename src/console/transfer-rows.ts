// How one transfer log entry looks in the console: a table row (live view and search) and the
// detail drawer. Entries hold ids, codes and a keyed subjectRef only (RULES 48), all escaped.
import { html, type Html } from './html.ts';
import type { TransferEntry } from '../transfer-log/entry.ts';

const list = (xs: readonly string[]) => (xs.length ? xs.join(', ') : '—');
const time = (iso: string) => iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');

/** Where the drawer of `e` is fetched from (its chain and seq locate it; its id, time and partner must match). */
export function entryHref(e: TransferEntry): string {
  const q = new URLSearchParams({ id: e.id, at: e.at, ...(e.partnerId ? { partnerId: e.partnerId } : {}), chain: e.chain, seq: String(e.seq) });
  return `/console/transfers/entry?${q.toString()}`;
}

export const ROW_HEADINGS = html`<tr><th scope="col">Time (UTC)</th><th scope="col">Partner</th><th scope="col">Purpose</th><th scope="col">Decision</th><th scope="col">Reason</th><th scope="col">Countries</th><th scope="col"><span class="skip">Details</span></th></tr>`;

/** One line of HTML (an SSE data field holds one line). */
export function entryRow(e: TransferEntry): Html {
  return html`<tr data-entry-id="${e.id}"><td>${time(e.at)}</td><td>${e.partnerId ?? '—'}</td><td>${e.purpose ?? '—'}</td><td class="${e.decision}">${e.decision}</td><td>${e.reason ?? '—'}</td><td>${list(e.destinationCountries)}</td><td><a href="${entryHref(e)}" hx-get="${entryHref(e)}" hx-target="#drawer" hx-swap="innerHTML">Details<span class="skip"> of entry ${e.id}</span></a></td></tr>`;
}

/** The detail drawer: everything an auditor asks about one entry. */
export function entryDetail(e: TransferEntry): Html {
  const rows: Array<[string, string]> = [
    ['Entry id', e.id], ['Time (UTC)', e.at], ['Request id', e.requestId],
    ['Partner', e.partnerId ?? '—'], ['Purpose', e.purpose ?? '—'], ['Decision', e.decision], ['Reason', e.reason ?? '—'],
    ['Agreement', e.agreementId ?? '—'], ['Agreement version', e.agreementVersion === null ? '—' : String(e.agreementVersion)],
    ['Categories', list(e.categories)], ['Legal basis', e.legalBasis ?? '—'], ['Cross-border basis', e.crossBorderBasis ?? '—'],
    ['Destination countries', list(e.destinationCountries)], ['Policy version', e.policyVersion ?? '—'],
    ['Pseudonym key version', e.keyVersion === null ? '—' : String(e.keyVersion)], ['Delete by', e.deleteBy ?? '—'],
    ['TLS', e.tls ? [e.tls.protocol, e.tls.cipher].filter(Boolean).join(' · ') || '—' : '—'],
    ['Subject ref', e.subjectRef ?? '—'], ['Chain', e.chain], ['Seq', String(e.seq)], ['Previous hash', e.prevHash], ['Hash', e.hash],
  ];
  return html`<h2>Entry ${e.seq} of chain ${e.chain}</h2>
<button type="button" class="secondary" data-close-drawer>Close</button>
<dl>${rows.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>`;
}
