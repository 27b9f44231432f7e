// deploy/monitoring/ (issue 16): the shipped Prometheus rules pass `promtool check rules` and their
// own unit tests, and every metric the Grafana dashboard and the alert rules name is one a real
// gateway exposes on the control plane's /metrics, with the labels they read.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startStack, waitFor, type Stack } from './harness/stack.ts';
import { adminApi } from './harness/admin.ts';
import { setupPartner, partnerGet } from './harness/partner.ts';
import { parseExposition, sampleValue, scrapeMetrics, seriesNames, type Exposition } from './harness/metrics.ts';
import { groupingLabels, selectors } from './harness/promql.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const DASHBOARD = 'deploy/monitoring/grafana-dashboard.json';
const ALERTS = 'deploy/monitoring/alerts.yml';
const ALERT_TESTS = 'deploy/monitoring/alerts.test.yml';
/** Series Prometheus makes itself for each target, never in the gateway's own text. */
const PROMETHEUS_MADE = new Set(['up']);
/** Labels Prometheus adds to every scraped series. */
const TARGET_LABELS = new Set(['instance', 'job']);

/** Fails (never skips) when promtool is missing: the rules are part of what the suite proves. */
function promtool(...args: string[]) {
  const r = spawnSync('promtool', args, { cwd: root, encoding: 'utf8', timeout: 60_000 });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    assert.fail('promtool is not installed: apt-get install prometheus (Debian; .ci/run installs it)');
  }
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

/** Every PromQL expression the dashboard and the rules evaluate, and the dashboard's label_values() queries. */
function shippedQueries(): { exprs: Array<{ where: string; expr: string }>; labelValues: Array<{ metric: string; label: string }> } {
  const dash = JSON.parse(readFileSync(`${root}${DASHBOARD}`, 'utf8'));
  assert.ok(dash.schemaVersion >= 39, 'schemaVersion 39+');
  assert.ok(dash.__inputs.some((i: { name: string; pluginId: string }) => i.name === 'DS_PROMETHEUS' && i.pluginId === 'prometheus'), 'a ${DS_PROMETHEUS} input');
  const exprs: Array<{ where: string; expr: string }> = [];
  for (const p of dash.panels) {
    if (p.type === 'row') continue;
    assert.equal(p.datasource?.uid, '${DS_PROMETHEUS}', `panel ${p.title} uses the datasource input`);
    assert.ok(p.targets?.length, `panel ${p.title} has a query`);
    for (const t of p.targets) exprs.push({ where: `dashboard panel "${p.title}"`, expr: t.expr });
  }
  const labelValues = dash.templating.list.map((v: { query: { query: string } }) => {
    const m = /^label_values\((\w+),\s*(\w+)\)$/.exec(v.query.query);
    assert.ok(m, `template query ${v.query.query}`);
    return { metric: m[1]!, label: m[2]! };
  });
  // The rules file: every `expr:` block (a one-liner or a `|` block of indented lines).
  const lines = readFileSync(`${root}${ALERTS}`, 'utf8').split('\n');
  lines.forEach((line, i) => {
    const m = /^(\s*)expr:\s*(.*)$/.exec(line);
    if (!m) return;
    let expr = m[2]!;
    if (expr === '|') {
      const block: string[] = [];
      for (let j = i + 1; j < lines.length && (lines[j]!.trim() === '' || lines[j]!.search(/\S/) > m[1]!.length); j++) block.push(lines[j]!);
      expr = block.join('\n');
    }
    const alert = lines.slice(0, i).reverse().find((l) => /- alert:/.test(l))!.split(':')[1]!.trim();
    exprs.push({ where: `alert ${alert}`, expr });
  });
  return { exprs, labelValues };
}

let stack: Stack;
let metricsToken: string;
before(async () => {
  // The durability check is repeated every 100 ms here, so a Redis switched to appendfsync everysec
  // is refused at once (transfer-log/durability.ts).
  stack = await startStack({ users: 20, extra: { transferLog: { durabilityCheckIntervalMs: 100 } } });
  const r = await adminApi(stack, stack.adminToken)('POST', '/admin/v1/tokens', { body: { role: 'metrics', label: 'prometheus' } });
  assert.equal(r.status, 201, r.text);
  metricsToken = r.body.token;
});
after(() => stack.close());

test('promtool check rules passes on deploy/monitoring/alerts.yml', () => {
  const r = promtool('check', 'rules', ALERTS);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /SUCCESS: 9 rules found/);
});

test('promtool test rules: each alert fires on its series, and a quiet gateway fires none', () => {
  const r = promtool('test', 'rules', ALERT_TESTS);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /SUCCESS/);
  // Every alert in the rules file is exercised by a test that expects it to fire.
  const alerts = [...readFileSync(`${root}${ALERTS}`, 'utf8').matchAll(/- alert: (\w+)/g)].map((m) => m[1]!);
  const tests = readFileSync(`${root}${ALERT_TESTS}`, 'utf8');
  for (const a of alerts) assert.match(tests, new RegExp(`alertname: ${a}\\n\\s+exp_alerts:\\n\\s+- exp_labels`), `${a} has a firing test`);
});

test('the PromQL reader finds what the shipped queries name (it cannot pass by finding nothing)', () => {
  assert.deepEqual(selectors('sum by (partner) (gateway_x_total unless gateway_x_total offset 5m) and on (instance, job) (up offset 5m == 1)').map((s) => s.name),
    ['gateway_x_total', 'gateway_x_total', 'up']);
  assert.deepEqual(selectors('histogram_quantile(0.95, sum by (le, route) (rate(a_bucket{instance=~"$instance", status=~"4..|5.."}[$__rate_interval])))'),
    [{ name: 'a_bucket', labels: ['instance', 'status'] }]);
  const names = new Set(shippedQueries().exprs.flatMap((e) => selectors(e.expr).map((s) => s.name)));
  for (const n of ['gateway_http_requests_total', 'gateway_http_request_duration_seconds_bucket', 'gateway_decisions_total', 'gateway_egress_guard_hits_total',
    'gateway_transfer_log_append_duration_seconds_bucket', 'gateway_transfer_log_append_duration_seconds_count', 'gateway_transfer_log_verify_total',
    'gateway_redis_up', 'gateway_notice_deliveries_total', 'gateway_tls_certificate_days_left', 'up']) {
    assert.ok(names.has(n), `${n} is read by the shipped queries`);
  }
});

test('after one release and one denial, every metric the dashboard and the alerts name is in a real /metrics scrape, with the labels they use', async () => {
  const p = await setupPartner(stack, { processingCountries: ['KZ'], purposes: { service_delivery: { categories: { phone: 'clear' } } } });
  const token = await p.token('service_delivery');
  const page = await partnerGet(stack, token, '/v1/subjects?purpose=service_delivery&limit=5');
  assert.equal(page.status, 200, page.text);
  assert.ok(page.body.items.length > 0, 'at least one subject released');
  const refused = await partnerGet(stack, token, '/v1/subjects?purpose=advertising&limit=5');
  assert.equal(refused.status, 403, refused.text);
  assert.equal(refused.body.code, 'insufficient_scope');
  const auditorToken = (await adminApi(stack, stack.adminToken)('POST', '/admin/v1/tokens', { body: { role: 'auditor' } })).body.token;
  const verify = await adminApi(stack, auditorToken)('GET', '/admin/v1/transfers/verify');
  assert.equal(verify.body?.ok, true, verify.text);

  const x: Exposition = parseExposition(await scrapeMetrics(stack, metricsToken)); // Prometheus's own role
  const exposed = seriesNames(x.types);
  const { exprs, labelValues } = shippedQueries();
  const labelsOf = (name: string) => new Set(x.samples.filter((s) => s.name === name).flatMap((s) => Object.keys(s.labels)));
  for (const { where, expr } of exprs) {
    const sels = selectors(expr);
    assert.ok(sels.length > 0, `${where}: no metric found in ${expr}`);
    for (const s of sels) {
      if (PROMETHEUS_MADE.has(s.name)) continue;
      assert.ok(exposed.has(s.name), `${where} reads ${s.name}, which /metrics does not expose`);
      const have = labelsOf(s.name);
      if (have.size === 0) continue; // no sample yet (e.g. no notice delivered): the name check above stands
      for (const l of s.labels) assert.ok(have.has(l) || TARGET_LABELS.has(l), `${where}: ${s.name} has no label ${l}`);
    }
    // A by/on label must exist on some series the expression reads.
    const read = new Set(sels.flatMap((s) => [...labelsOf(s.name)]));
    if (read.size) for (const l of groupingLabels(expr)) assert.ok(read.has(l) || TARGET_LABELS.has(l), `${where}: groups by ${l}, which none of its series has`);
  }
  for (const { metric, label } of labelValues) {
    assert.ok((exposed.has(metric) && labelsOf(metric).has(label)) || TARGET_LABELS.has(label), `template variable reads ${metric}.${label}`);
  }

  // The events just driven are counted where the dashboard looks for them.
  assert.ok((sampleValue(x, 'gateway_decisions_total', { partner: p.id, decision: 'released', reason: '' }) ?? 0) >= 1);
  assert.equal(sampleValue(x, 'gateway_decisions_total', { partner: p.id, decision: 'denied', reason: 'insufficient_scope' }), 1);
  assert.ok((sampleValue(x, 'gateway_transfer_log_append_duration_seconds_count', { outcome: 'durable' }) ?? 0) >= 2, 'the page and the denial each waited for a durable append');
  assert.equal(sampleValue(x, 'gateway_transfer_log_append_duration_seconds_count', { outcome: 'audit_unavailable' }), 0, 'present at 0 before any failure');
  assert.equal(sampleValue(x, 'gateway_transfer_log_verify_total', { result: 'ok' }), 1);
  assert.equal(sampleValue(x, 'gateway_transfer_log_verify_total', { result: 'broken' }), 0);
  assert.equal(sampleValue(x, 'gateway_redis_up', { connection: 'commands' }), 1);
  assert.equal(sampleValue(x, 'gateway_redis_up', { connection: 'subscriber' }), 1);
});

test('a Redis that stops being durable: the denial that cannot be logged is counted as audit_unavailable on /metrics', async () => {
  const p = await setupPartner(stack, { processingCountries: ['KZ'], purposes: { service_delivery: { categories: { phone: 'clear' } } } });
  const token = await p.token('service_delivery');
  const { redis } = stack.gateway.deps;
  // A real fault the writer refuses (DESIGN 1): appendfsync switched away from always at run time.
  await redis.configSet('appendfsync', 'everysec');
  try {
    await new Promise((r) => setTimeout(r, stack.config.transferLog.durabilityCheckIntervalMs + 50));
    const r = await partnerGet(stack, token, '/v1/subjects?purpose=advertising&limit=5');
    assert.equal(r.status, 503, r.text);
    assert.equal(r.body.code, 'audit_unavailable', 'a denial is logged too (CONTRACT 6); unloggable, it is a 503');
  } finally {
    await redis.configSet('appendfsync', 'always');
  }
  const x = parseExposition(await scrapeMetrics(stack, metricsToken));
  assert.equal(sampleValue(x, 'gateway_transfer_log_append_duration_seconds_count', { outcome: 'audit_unavailable' }), 1);
});

test('a hung Redis: gateway_redis_up reads 0 for the command connection at once and for the subscriber once its heartbeat is overdue; 1 again after', { timeout: 30_000 }, async () => {
  const { metrics: { registry }, heartbeat } = stack.gateway.deps;
  stack.redis.process.kill('SIGSTOP');
  let during: Exposition;
  let overdue: Exposition;
  try {
    // /metrics itself needs Redis for its token check (fail closed; alert GatewayMetricsScrapeFailing),
    // so read the registry it serves.
    during = parseExposition(await registry.metrics());
    await waitFor(() => !heartbeat.fresh, 10_000, 100);
    overdue = parseExposition(await registry.metrics());
  } finally {
    stack.redis.process.kill('SIGCONT');
  }
  assert.equal(sampleValue(during, 'gateway_redis_up', { connection: 'commands' }), 0);
  assert.equal(sampleValue(overdue, 'gateway_redis_up', { connection: 'subscriber' }), 0, 'the policy caches on it refuse everything now');
  await waitFor(() => heartbeat.fresh, 10_000, 100);
  const later = parseExposition(await scrapeMetrics(stack, metricsToken));
  assert.equal(sampleValue(later, 'gateway_redis_up', { connection: 'commands' }), 1);
  assert.equal(sampleValue(later, 'gateway_redis_up', { connection: 'subscriber' }), 1);
});
