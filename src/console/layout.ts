// The page shell every console page shares: head with the served assets (no CDN), landmarks, a
// skip link, the navigation (built pages only), who is signed in, and sign-out. Every form and
// every htmx request carries the session's CSRF token (issue 16).
import { html, type Html } from './html.ts';
import type { AssetTable } from './assets.ts';
import type { Session } from './sessions.ts';

export const PAGES = [
  { path: '/console/overview', label: 'Overview' },
  { path: '/console/live', label: 'Live transfers' },
  { path: '/console/transfers', label: 'Transfer log' },
  { path: '/console/partners', label: 'Partners' },
  { path: '/console/agreements', label: 'Agreements' },
  { path: '/console/jurisdiction', label: 'Jurisdiction' },
  { path: '/console/integrity', label: 'Integrity' },
  { path: '/console/audit', label: 'Audit' },
  { path: '/console/incidents', label: 'Incidents' },
] as const;

// htmx: no eval (hx-on, js: values) and no inline indicator <style>, both of which the CSP refuses.
const HTMX_CONFIG = JSON.stringify({ allowEval: false, allowScriptTags: false, includeIndicatorStyles: false, selfRequestsOnly: true, historyCacheSize: 0 });

export interface PageInit { title: string; current?: string; session?: Session | null; body: Html; charts?: boolean }

/** The hidden CSRF field of a state-changing form. */
export const csrfField = (s: Session) => html`<input type="hidden" name="_csrf" value="${s.csrf}">`;

export function page(assets: AssetTable, p: PageInit): Html {
  const s = p.session ?? null;
  const u = assets.url;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="htmx-config" content="${HTMX_CONFIG}">
<title>${p.title} · partner-gateway console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${u.pico}">
${p.charts ? html`<link rel="stylesheet" href="${u.uplotCss}">` : ''}
<link rel="stylesheet" href="${u.consoleCss}">
<script src="${u.htmx}" defer></script>
<script src="${u.htmxSse}" defer></script>
${p.charts ? html`<script src="${u.uplotJs}" defer></script>` : ''}
<script src="${u.consoleJs}" defer></script>
</head>
<body${s ? html` hx-headers="${JSON.stringify({ 'X-CSRF-Token': s.csrf })}"` : ''}>
<a class="skip" href="#main">Skip to content</a>
<header>
<nav aria-label="Console">
<ul><li><strong>partner-gateway console</strong></li></ul>
${s ? html`<ul>${PAGES.map((n) => html`<li><a href="${n.path}"${n.path === p.current ? html` aria-current="page"` : ''}>${n.label}</a></li>`)}</ul>
<ul><li><span>${s.staff.name} <small>(${s.staff.role})</small></span></li>
<li><form method="post" action="/console/sign-out">${csrfField(s)}<button type="submit" class="secondary">Sign out</button></form></li></ul>` : ''}
</nav>
</header>
<main id="main">
<h1>${p.title}</h1>
${p.body}
</main>
<aside id="drawer" aria-label="Entry details" aria-live="polite"></aside>
<footer><p class="muted"><small>Control plane · every action is recorded in the admin audit with your identity and role.</small></p></footer>
</body>
</html>`;
}
