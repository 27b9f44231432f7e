// The console's own script and stylesheet, served as files under /console/assets/ (the CSP allows
// no inline script or style). The script does only what htmx cannot: draw the uPlot charts, hold
// live rows back while paused, and move keyboard focus into the detail drawer. Kept as strings so
// the compiled dist/ carries them without a bundler step.
export const CONSOLE_JS = String.raw`'use strict';
(function () {
  // Charts: [data-chart] holds {x: [unix seconds], released: [...], denied: [...]}; the axis label
  // (per minute, 15 minutes or hour) is the element's data-unit.
  function drawCharts() {
    document.querySelectorAll('[data-chart]').forEach(function (el) {
      if (el.dataset.drawn || typeof uPlot === 'undefined') return;
      el.dataset.drawn = '1';
      var d = JSON.parse(el.dataset.chart);
      new uPlot({
        width: Math.max(320, el.clientWidth), height: 220,
        series: [{}, { label: 'released', stroke: '#1b6e2d', width: 2 }, { label: 'denied', stroke: '#a4161a', width: 2 }],
        axes: [{}, { label: 'transfers ' + (el.dataset.unit || 'per minute') }],
      }, [d.x, d.released, d.denied], el);
    });
  }

  // Live view: while paused, arriving rows wait in a queue and are shown on resume, in order.
  var paused = false;
  var queue = [];
  var MAX_ROWS = 200;
  function liveStatus(text) {
    var s = document.getElementById('live-status');
    if (s) s.textContent = text;
  }
  function trimRows() {
    var body = document.getElementById('live-rows');
    while (body && body.rows.length > MAX_ROWS) body.deleteRow(body.rows.length - 1);
  }
  document.addEventListener('htmx:sseBeforeMessage', function (e) {
    if (!paused) return;
    e.preventDefault();
    queue.push(e.detail.data);
    liveStatus('Paused: ' + queue.length + ' new');
  });
  document.addEventListener('htmx:sseMessage', trimRows);
  document.addEventListener('htmx:sseOpen', function () { if (!paused) liveStatus('Live'); });
  document.addEventListener('htmx:sseError', function () { liveStatus('Reconnecting'); });
  document.addEventListener('click', function (e) {
    var t = e.target;
    if (t && t.id === 'live-pause') {
      paused = !paused;
      t.setAttribute('aria-pressed', String(paused));
      t.textContent = paused ? 'Resume' : 'Pause';
      if (!paused) {
        var body = document.getElementById('live-rows');
        queue.forEach(function (row) { htmx.swap(body, row, { swapStyle: 'afterbegin' }); });
        queue = [];
        trimRows();
      }
      liveStatus(paused ? 'Paused' : 'Live');
    }
    if (t && t.hasAttribute && t.hasAttribute('data-close-drawer')) {
      var drawer = document.getElementById('drawer');
      if (drawer) drawer.replaceChildren();
    }
  });

  // Destructive forms ask first (hx-confirm would need htmx to send the form).
  document.addEventListener('submit', function (e) {
    var f = e.target;
    if (f && f.dataset && f.dataset.confirm && !window.confirm(f.dataset.confirm)) e.preventDefault();
  });

  // The drawer: focus its heading when it opens, so keyboard and screen reader users land in it.
  document.addEventListener('htmx:afterSwap', function (e) {
    if (e.detail.target && e.detail.target.id === 'drawer') {
      var h = e.detail.target.querySelector('h2');
      if (h) { h.setAttribute('tabindex', '-1'); h.focus(); }
    }
  });
  document.addEventListener('keydown', function (e) {
    var drawer = document.getElementById('drawer');
    if (e.key === 'Escape' && drawer && drawer.firstChild) drawer.replaceChildren();
  });

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', drawCharts);
  else drawCharts();
})();
`;

export const CONSOLE_CSS = `
.skip { position: absolute; left: -10000px; }
.skip:focus { position: static; }
:focus-visible { outline: 3px solid #0b5cad; outline-offset: 2px; }
body > header, body > main, body > footer { max-width: 1280px; margin: 0 auto; padding-left: 1rem; padding-right: 1rem; }
table { font-size: 0.875rem; }
td, th { padding: 0.35rem 0.5rem; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(12rem, 1fr)); gap: 1rem; }
.cards article { margin: 0; }
.figure { font-size: 1.75rem; font-weight: 700; }
.released { color: #1b6e2d; }
.denied { color: #a4161a; }
.filters { display: grid; grid-template-columns: repeat(auto-fit, minmax(10rem, 1fr)); gap: 0 1rem; align-items: end; }
.field-error { color: #a4161a; font-size: 0.875rem; }
.hash { word-break: break-all; font-size: 0.8rem; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 1rem; }
.facts dd { margin: 0; }
.audit-list, .audit-list li { list-style: none; padding: 0; }
.audit-list details { border-bottom: 1px solid #ccc; padding: 0.25rem 0; margin: 0; }
.diff td { word-break: break-all; }
.diff tr.changed th, .diff tr.changed td { background: #fff3bf; color: #1a1a1a; }
.diff tr.changed td:last-child { font-weight: 700; }
.chart { min-height: 240px; }
.category-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(13rem, 1fr)); gap: 0 1rem; }
.category-grid, .agreement-editor td { --pico-form-element-spacing-vertical: 0.3rem; --pico-form-element-spacing-horizontal: 0.6rem; font-size: 0.9rem; }
.category-grid select, .category-grid input, .agreement-editor td input, .agreement-editor td select { margin-bottom: 0.4rem; }
.category-grid label { margin-bottom: 0.1rem; }
details.purpose { border: 1px solid #c8ccd2; border-radius: 0.25rem; padding: 0.4rem 0.8rem; margin-bottom: 0.5rem; }
.error-summary { border: 2px solid #a4161a; padding: 0.5rem 1rem; margin-bottom: 1rem; }
.diff-changed td, .diff-changed th { background: #fff3c4; }
.diff-added td, .diff-added th { background: #dcf5e0; }
.diff-removed td, .diff-removed th { background: #fbe0e0; }
.lagging { color: #a4161a; }
.actions a[role="button"] { margin-right: 0.5rem; }
.actions a.secondary { background: #525f6f; border-color: #525f6f; }
a.danger[role="button"], button.danger { background: #a4161a; border-color: #a4161a; color: #fff; }
.pending { border-left: 4px solid #b35c00; }
#drawer:empty { display: none; }
#drawer { position: fixed; top: 0; right: 0; bottom: 0; width: min(36rem, 100%); overflow-y: auto;
  background: var(--pico-background-color, #fff); border-left: 1px solid #888; padding: 1rem 1.5rem; box-shadow: -4px 0 16px rgba(0,0,0,.2); }
#drawer dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 1rem; }
#drawer dd { margin: 0; word-break: break-all; }
nav form { margin: 0; }
/* Issue 16 "readable on a laptop screen": at 1366 px the brand, nine links, the staff name and
   sign-out overflowed sideways. Two rows instead: the brand and who is signed in, then the links
   on a row of their own (wrapping as whole items on narrower screens). */
body > header nav { flex-wrap: wrap; }
body > header nav ul:nth-of-type(2) { order: 3; flex: 1 0 100%; flex-wrap: wrap; margin-left: calc(var(--pico-nav-element-spacing-horizontal) * -1); }
body > header nav li { white-space: nowrap; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(18rem, 1fr)); gap: 0 1.5rem; }
[aria-current="page"] { font-weight: 700; text-decoration: underline; text-underline-offset: 0.3em; }
td form { display: inline; margin: 0; }
td button[type="submit"] { padding: 0.2rem 0.6rem; margin: 0.2rem 0; width: auto; font-size: 0.875rem; }
nav button[type="submit"] { width: auto; }
td ul { margin: 0; padding-left: 1rem; }
#drawer { font-size: 0.875rem; }
nav button { padding: 0.25rem 0.75rem; margin: 0; }
.muted { color: #555; }
.secret { font-family: monospace; word-break: break-all; }
.overdue { color: #a4161a; }
tr.overdue-row, td.overdue { background: #fdecec; }
td.due-soon { background: #fff4d6; }
.nowrap { white-space: nowrap; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 1rem; }
dl.facts dd { margin: 0; }
`;
