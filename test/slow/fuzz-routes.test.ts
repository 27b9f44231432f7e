// Issue [1/6] item 3: hostile requests over every route of the served OpenAPI documents — broken
// path segments, odd query strings, headers and bodies, with valid and invalid credentials of
// every role. No answer may be a 5xx, the gateway must stay up and ready, and a canary planted in
// every generated value must never reach its log (RULES 24). Issue 19: every answer also matches
// the served document of its listener (the stack's OpenAPI response check stays on): an unknown
// route or method is 404 problem+json, the parser's refusals (431) are its x-listener-responses.
// Seeded: FUZZ_SEED=n reproduces a run; fast-check prints the seed and the failing request.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fetch, type Dispatcher } from 'undici';
import { startStack, type Stack } from '../harness/stack.ts';
import { setupPartner } from '../harness/partner.ts';
import { adminApi } from '../harness/admin.ts';
import { fuzzRequest, type Route, type Credential } from '../harness/fuzz.ts';
import type { CheckedAgent } from '../harness/response-check.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 5000);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
export const CANARY = 'qzCANARYxq'; // letters only: survives percent-encoding, never a UUID

let s: Stack;
const creds: Credential[] = [];
const routes: Route[] = [];

/** Every listener of the stack: the partner one, and the control plane where it has its own. */
const listeners = () => [...new Set([s.url, (s as Stack & { adminUrl?: string }).adminUrl ?? s.url])];

before(async () => {
  s = await startStack({ users: 200 });
  const admin = adminApi(s, s.adminToken);
  const p = await setupPartner(s);
  creds.push({ label: 'none', value: null }, { label: 'admin', value: s.adminToken }, { label: 'partner', value: await p.token('advertising service_delivery') });
  for (const role of ['auditor', 'core_store', 'metrics']) {
    const r = await admin('POST', '/admin/v1/tokens', { body: { role, label: 'fuzz' } });
    if (r.status === 201) creds.push({ label: role, value: r.body.token });
    else assert.ok(role === 'metrics', `minting a ${role} token: ${r.status}`); // metrics: only once the control plane has it
  }
  creds.push({ label: 'garbage', value: `${CANARY}-not-a-token` });
  for (const base of listeners()) {
    const res = await fetch(`${base}/openapi.json`, { dispatcher: s.client });
    const doc = (await res.json()) as { paths: Record<string, Record<string, { parameters?: Array<{ name: string; in: string }> }>> };
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        routes.push({ base, method: method.toUpperCase(), path, query: (op.parameters ?? []).filter((x) => x.in === 'query').map((x) => x.name) });
      }
    }
  }
  assert.ok(routes.length >= 35, `the served documents list ${routes.length} routes`);
});
after(async () => s.close());

test(`${RUNS} hostile requests over every documented route: no 5xx, each answer as documented, still ready, no canary in the log (seed ${SEED})`, async () => {
  let answered = 0;
  const statuses = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(fuzzRequest(routes, creds, CANARY), async (req) => {
      const mismatches = (s.client as CheckedAgent).mismatches;
      const seen = mismatches.length;
      const res = await s.client.request({ origin: req.origin, path: req.path, method: req.method as Dispatcher.HttpMethod, headers: req.headers, body: req.body, headersTimeout: 10_000, bodyTimeout: 10_000 })
        .catch((e: Error & { code?: string }) => {
          // A server may close a connection on a body it refused (413 before the upload ended): the
          // client then sees a reset; that is a refusal, not a failure — anything else is.
          if (req.bodyBytes > 1_000_000 && /ECONNRESET|EPIPE|UND_ERR_SOCKET/.test(`${e.code} ${e.message}`)) return null;
          throw e;
        });
      if (!res) return;
      // The status is in; a live stream (SSE) never ends by itself, so its body is dropped after a
      // moment rather than waited for.
      const drop = setTimeout(() => res.body.destroy(), 200);
      await res.body.dump({ limit: 4 * 1024 * 1024 }).catch(() => undefined).finally(() => clearTimeout(drop));
      answered++;
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      assert.ok(res.statusCode < 500, `${req.method} ${req.path.slice(0, 200)} [${req.describe}] -> ${res.statusCode}`);
      // Issue 19: the answer matches the listener's served document (the check names what differs).
      assert.deepEqual(mismatches.slice(seen), [], `${req.method} ${req.path.slice(0, 200)} [${req.describe}] -> ${res.statusCode}`);
    }),
    { numRuns: RUNS, seed: SEED, endOnFailure: true },
  );
  const ready = await fetch(`${s.url}/readyz`, { dispatcher: s.client });
  assert.equal(ready.status, 200, 'still ready');
  await ready.text();
  const leaked = s.logs.lines.filter((l) => l.includes(CANARY));
  assert.deepEqual(leaked.slice(0, 3), [], 'the canary reached the log');
  assert.ok(answered >= RUNS * 0.95, `only ${answered} of ${RUNS} requests were answered`);
  console.log(`fuzz: ${answered} answered over ${routes.length} routes, seed ${SEED}, statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}`);
});
