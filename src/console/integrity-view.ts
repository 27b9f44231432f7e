// What the integrity page shows (issue 16 page 4), as escaped HTML: the verify status fragment
// (polled every second while a run goes on, still once it ended), the chains with their newest
// checkpoint, the anchors (file sink from the last run; witness backlog), and a receipt's verdict.
import type { Incident } from '../incidents/index.ts';
import type { LogStatus, VerifyResult } from '../transfer-log/index.ts';
import type { ReceiptVerdict } from '../transfer-log/receipt-check.ts';
import { html, type Html } from './html.ts';
import type { VerifyRunState } from './integrity-verify.ts';

export const STATUS_PATH = '/console/integrity/verify/status';

const PHASES = { checkpoints: 'checking signed checkpoints and the chain registry', entries: 'walking the entries of every chain', anchors: 'comparing with the anchors file', recipients: 'checking the recipients index', done: 'finishing' } as const;

function finished(last: NonNullable<VerifyRunState['last']>, incident: Incident | null): Html {
  const r = last.result;
  const who = html`<p class="muted"><small>Started ${last.startedAt} by ${last.by}, finished ${last.finishedAt}.</small></p>`;
  if (!r) return html`<p role="alert" class="denied"><strong>The run could not complete</strong> (the log could not be read). Nothing was concluded; try again.</p>${who}`;
  const figures = html`<p>${r.entries} entries in ${r.chains} chains, ${r.checkpoints} signed checkpoints, ${r.registry} registry statements${r.anchors ? html`, ${r.anchors.lines} anchor lines` : ''}.</p>`;
  if (r.ok) return html`<p class="released"><strong>Verified: the log is intact.</strong></p>${figures}${who}`;
  const b = r.brokenAt;
  const what = b
    ? html`<dl><dt>Reason</dt><dd><code>${b.reason}</code></dd><dt>Chain</dt><dd>${b.chain ?? '—'}</dd><dt>Seq</dt><dd>${b.seq ?? '—'}</dd><dt>Detail</dt><dd>${b.detail}</dd></dl>`
    : html`<p>The recipients index disagrees with the entries in ${r.recipients?.driftCount ?? 0} records.</p>`;
  // RULES 50: the failed verify has opened an incident (onVerified); link to it once it is recorded.
  const link = incident
    ? html`<p>Incident <a href="/console/incidents#incident-${incident.id}"><code>${incident.id}</code></a> is open (${incident.kind}, detected ${incident.detectedAt}; notify by ${incident.notifyBy}).</p>`
    : html`<p>An incident is being opened (RULES 50); see <a href="/console/incidents">Incidents</a>.</p>`;
  return html`<p role="alert" class="denied"><strong>Verification failed.</strong></p>${what}${figures}${link}${who}`;
}

/** The status fragment; it keeps polling itself while a run goes on. */
export function verifyStatus(st: VerifyRunState, incident: Incident | null): Html {
  const run = st.running;
  if (run) {
    const p = run.progress;
    const total = p?.chainsTotal ?? 0;
    return html`<div id="verify-status" hx-get="${STATUS_PATH}" hx-trigger="every 1s" hx-swap="outerHTML" aria-live="polite" aria-busy="true">
<p><strong>Verifying…</strong> ${p ? PHASES[p.phase] : 'starting'}: ${p?.chainsDone ?? 0} of ${total} chains done, ${p?.entries ?? 0} entries checked.</p>
<progress value="${p?.chainsDone ?? 0}" max="${Math.max(total, 1)}" aria-label="Chains verified"></progress>
<p class="muted"><small>Started ${run.startedAt} by ${run.by}. This page updates every second.</small></p></div>`;
  }
  return html`<div id="verify-status" aria-live="polite">${st.last ? finished(st.last, incident) : html`<p class="muted">No verify run on this instance yet.</p>`}</div>`;
}

/** The file sink as the last run found it: checked against the anchors file, or where they disagree. */
function fileSink(r: VerifyResult | null | undefined): Html {
  if (!r) return html`<span class="muted">not checked yet: run verify</span>`;
  const b = r.brokenAt;
  if (b && (b.reason.startsWith('anchor_') || b.anchorLine !== undefined)) return html`<strong class="denied">mismatch</strong>: ${b.detail}`;
  if (r.anchors) return html`<strong class="released">ok</strong>: ${r.anchors.lines} lines agree with Redis${r.anchors.pending ? `, ${r.anchors.pending} just stored and on their way` : ''}`;
  return html`<span class="muted">not reached: the run stopped before the anchors check</span>`;
}

export function chainsSection(s: LogStatus, last: VerifyResult | null | undefined): Html {
  const reg = s.registry;
  return html`<section aria-labelledby="chains-title"><h2 id="chains-title">Chains and anchors</h2>
<table><caption>Last signed checkpoint per chain${s.invalidCheckpoints ? html` — <strong class="denied">${s.invalidCheckpoints} recent checkpoints do not verify: run verify</strong>` : ''}</caption>
<thead><tr><th scope="col">Chain</th><th scope="col">Head seq</th><th scope="col">Checkpoint seq</th><th scope="col">Signed at (UTC)</th><th scope="col">Hash</th></tr></thead>
<tbody>${s.chains.length ? s.chains.map((c) => html`<tr><th scope="row"><code>${c.chain}</code></th><td>${c.head}</td>
<td>${c.checkpoint ? c.checkpoint.seq : html`<span class="muted">none yet</span>`}</td>
<td>${c.checkpoint ? html`${c.checkpoint.at}${c.checkpoint.from === 'registry' ? html` <small class="muted">(registry)</small>` : ''}` : ''}</td>
<td>${c.checkpoint ? html`<code class="hash">${c.checkpoint.hash}</code>` : ''}</td></tr>`) : html`<tr><td colspan="5" class="muted">The log has no entries yet.</td></tr>`}</tbody></table>
<dl class="facts"><dt>Chain registry</dt><dd>${!reg ? html`<span class="muted">no statement yet</span>` : 'invalid' in reg ? html`<strong class="denied">the newest statement does not verify</strong>` : html`statement ${reg.n}, signed ${reg.at}`}</dd>
<dt>Anchors file (sink)</dt><dd>${fileSink(last)}</dd>
<dt>Witness</dt><dd>${s.witness ? html`${s.witness.pending ? html`<strong>${s.witness.pending}</strong> statements pending (retried every tick)` : 'nothing pending'}; ${s.witness.posted} posted by this instance` : html`<span class="muted">no witness configured</span>`}</dd></dl>
</section>`;
}

export function receiptVerdict(v: ReceiptVerdict): Html {
  if (v.ok) {
    return html`<article id="receipt-result" aria-live="polite"><p class="released"><strong>Receipt valid.</strong> Signed by key <code>${v.kid}</code>; every entry it names is in the log as signed.</p>
<dl class="facts"><dt>Partner</dt><dd>${v.partnerId}</dd><dt>Purpose</dt><dd>${v.purpose}</dd><dt>Request id</dt><dd><code>${v.requestId}</code></dd><dt>Entries</dt><dd>${v.entries} (${v.released} released)</dd><dt>Subjects checked</dt><dd>${v.subjectChecked ? 'yes' : 'no'}</dd></dl></article>`;
  }
  if (v.trimmed) {
    return html`<article id="receipt-result" aria-live="polite"><p><strong>Trimmed.</strong> The signature is valid, and retention removed the entries it names (a signed trim checkpoint says so): chain <code>${v.chain}</code> seq ${v.seq}.</p><p class="muted">${v.detail}</p></article>`;
  }
  return html`<article id="receipt-result" aria-live="polite"><p role="alert" class="denied"><strong>Tampering.</strong> The gateway signed this receipt, and the log no longer holds what it names as signed.</p>
<dl class="facts"><dt>Reason</dt><dd><code>${v.reason}</code></dd><dt>Chain</dt><dd><code>${v.chain}</code></dd><dt>Seq</dt><dd>${v.seq}</dd><dt>Detail</dt><dd>${v.detail}</dd></dl></article>`;
}
