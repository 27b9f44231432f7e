// Issue 19 item 1 on the control plane: every response of both served documents is typed (a
// schema for each JSON and NDJSON body, problem+json with its code enum for each error), except
// console HTML pages and the body-less answers listed below; error codes come from the specs, never
// from prose. Then one call of each admin read route through stack.client, whose hook checks each
// answer (status, headers, body, every NDJSON line) against the admin document.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fetch } from 'undici';
import { z } from 'zod';
import { startStack, type Stack } from './harness/stack.ts';
import { setupPartner } from './harness/partner.ts';
import { adminApi, type Api } from './harness/admin.ts';
import type { OpenApiDoc } from './harness/response-check.ts';
import { ApiDoc } from '../src/http/openapi.ts';

let stack: Stack;
let admin: Api;
let auditor: Api;
before(async () => {
  stack = await startStack({ users: 20 });
  admin = adminApi(stack, stack.adminToken);
  auditor = adminApi(stack, (await admin('POST', '/admin/v1/tokens', { body: { role: 'auditor' } })).body.token);
});
after(async () => {
  await stack.close();
});

type Doc = OpenApiDoc & { components: { schemas: Record<string, object> } };
const docOf = async (base: string) => (await (await fetch(`${base}/openapi.json`, { dispatcher: stack.client })).json()) as Doc;

/** Statuses that carry no body by HTTP's own rules (204) or only a redirect (303: Location). */
const BODILESS = new Set(['204', '303']);
const isJson = (media: string) => media === 'application/json' || media.endsWith('+json') || media === 'application/x-ndjson';

/** What is untyped in a document: one line per response, media type or error without its codes. */
function untyped(doc: Doc): string[] {
  const out: string[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      for (const [status, r] of Object.entries(op.responses ?? {})) {
        const where = `${method.toUpperCase()} ${path} ${status}`;
        const content = (r as { content?: Record<string, { schema?: Record<string, unknown> }> }).content ?? {};
        if (BODILESS.has(status)) {
          if (Object.keys(content).length) out.push(`${where}: a body-less status with content`);
          continue;
        }
        if (!Object.keys(content).length) out.push(`${where}: no content`);
        for (const [media, m] of Object.entries(content)) {
          const s = m.schema ?? {};
          // A JSON body typed as "any string" or nothing at all is prose, not a schema.
          if (isJson(media) && (!m.schema || Object.keys(s).length === 0 || s.type === 'string')) out.push(`${where} ${media}: no schema`);
          if (!isJson(media) && s.type !== 'string') out.push(`${where} ${media}: no string schema`);
          if (media === 'text/html' && !path.startsWith('/console')) out.push(`${where}: text/html outside the console`);
          if (media === 'application/problem+json') {
            const codes = (((s.allOf as Array<{ properties?: { code?: { enum?: string[] } } }> | undefined)?.[1])?.properties?.code?.enum) ?? [];
            if (!codes.length) out.push(`${where}: a problem without its code enum`);
          }
        }
        const errorStatus = status === 'default' || Number(status) >= 400;
        if (errorStatus && !path.startsWith('/console') && !content['application/problem+json'] && !Object.keys(content).some(isJson)) {
          out.push(`${where}: an error without a JSON body`);
        }
      }
    }
  }
  return out;
}

test('every response of both documents has a schema for each body (JSON and NDJSON), except HTML pages and explicitly listed bodiless ones', async () => {
  for (const base of [stack.url, stack.adminUrl]) assert.deepEqual(untyped(await docOf(base)), [], base);
  // The check can fail: the admin document as it was before issue 19 (prose bodies) is refused.
  const doc = await docOf(stack.adminUrl);
  const before = structuredClone(doc);
  (before.paths['/admin/v1/partners']!.get!.responses as Record<string, object>)['200'] = { description: '{items}' };
  (before.paths['/admin/v1/transfers/export']!.get!.responses as Record<string, any>)['200'].content = { 'application/x-ndjson': { schema: { type: 'string' } } };
  (before.paths['/admin/v1/tokens/{id}']!.delete!.responses as Record<string, object>)['204'] = { description: 'revoked', content: { 'application/json': { schema: {} } } };
  assert.deepEqual(untyped(before).sort(), [
    'DELETE /admin/v1/tokens/{id} 204: a body-less status with content',
    'GET /admin/v1/partners 200: no content',
    'GET /admin/v1/transfers/export 200 application/x-ndjson: no schema',
  ]);
});

test('error codes are listed by each route, never read from its prose: a route that lists none does not start', async () => {
  const doc = await docOf(stack.adminUrl);
  const codes = (path: string, method: string, status: string) =>
    ((doc.paths[path]![method]!.responses as Record<string, any>)[status].content['application/problem+json'].schema.allOf[1].properties.code.enum as string[]);
  assert.deepEqual(codes('/admin/v1/agreements/{id}/approve', 'post', '403'), ['forbidden', 'second_admin_required']);
  assert.deepEqual(codes('/admin/v1/reidentifications/{id}/approve', 'post', '404'), ['not_found', 'subject_not_found']);
  assert.deepEqual(codes('/admin/v1/transfers/verify', 'get', '503'), ['store_unavailable', 'verify_in_progress']);
  assert.deepEqual(codes('/admin/v1/partners', 'post', '409'), ['conflict']);
  assert.deepEqual(codes('/metrics', 'get', '401'), ['invalid_token']);
  // Prose naming a code is not enough any more: the route must list it.
  assert.throws(() => new ApiDoc('admin').add('GET', '/admin/v1/x', { summary: 'x', auth: 'admin', responses: { 404: 'not_found' } }), /lists its problem codes/);
  new ApiDoc('admin').add('GET', '/admin/v1/x', { summary: 'x', auth: 'admin', responses: { 404: { description: 'not_found', codes: ['not_found'] } } });
  // Console errors are pages (console/router.ts errorPage), not problems.
  const page = (doc.paths['/console/transfers/entry']!.get!.responses as Record<string, any>)['404'].content;
  assert.deepEqual(Object.keys(page), ['text/html']);
  // Named bodies come from the zod schemas: the agreement version is the posted terms plus its state.
  const version = doc.components.schemas.AgreementVersion as { properties: Record<string, unknown>; required: string[] };
  assert.ok(version.properties.confidentiality && version.properties.review && version.required.includes('status'));
  assert.ok(z.object({ properties: z.object({ status: z.object({ enum: z.array(z.string()) }) }) }).parse(version).properties.status.enum.includes('pending_review'));
});

test('each admin read route answers as its document says (the response check runs on every call)', async () => {
  const p = await setupPartner(stack, { processingCountries: ['KZ'] });
  const pull = await fetch(`${stack.url}/v1/subjects?purpose=service_delivery&limit=3`, { headers: { authorization: `Bearer ${await p.token('service_delivery')}` }, dispatcher: stack.client });
  const bulk = (await pull.json()) as { items: Array<{ subject: string }>; receipts: string[] };
  assert.equal(pull.status, 200);
  const ok = async (api: Api, method: string, path: string, body?: unknown, status = 200) => {
    const r = await api(method, path, body === undefined ? {} : { body });
    assert.equal(r.status, status, `${method} ${path}: ${r.text}`);
    return r;
  };
  await ok(admin, 'GET', '/admin/v1/partners');
  await ok(admin, 'GET', `/admin/v1/partners/${p.id}`);
  const versions = await ok(admin, 'GET', `/admin/v1/partners/${p.id}/agreements`);
  assert.equal(versions.body.inForce.status, 'active');
  await ok(admin, 'GET', `/admin/v1/partners/${p.id}/keys`);
  await ok(admin, 'POST', `/admin/v1/partners/${p.id}/keys/rotate`, {});
  await ok(admin, 'POST', `/admin/v1/partners/${p.id}/credentials`, {}, 201);
  await ok(admin, 'GET', '/admin/v1/jurisdiction');
  await ok(admin, 'PUT', '/admin/v1/jurisdiction/blocked/BR', { reason: 'contract test' });
  await ok(admin, 'DELETE', '/admin/v1/jurisdiction/blocked/BR');
  await ok(admin, 'GET', '/admin/v1/jurisdiction/history?limit=2');
  await ok(admin, 'GET', '/admin/v1/incidents');
  await ok(admin, 'GET', '/admin/v1/notices/overdue');
  await ok(auditor, 'GET', '/admin/v1/notices/dead-letter');
  await ok(auditor, 'GET', '/admin/v1/audit?limit=5');
  const page = await ok(auditor, 'GET', '/admin/v1/transfers?limit=2');
  assert.ok(page.body.items.length > 0);
  await ok(auditor, 'GET', '/admin/v1/transfers/export');
  await ok(auditor, 'GET', '/admin/v1/transfers/verify');
  await ok(auditor, 'GET', '/admin/v1/subjects/u_000001/recipients');
  await ok(auditor, 'GET', '/admin/v1/access-denials');
  const verdict = await ok(auditor, 'POST', '/admin/v1/transfers/receipts/verify', { receipt: bulk.receipts[0], subjects: bulk.items.map((i) => i.subject) });
  assert.equal(verdict.body.ok, true);
  const refused = await ok(auditor, 'POST', '/admin/v1/transfers/receipts/verify', { receipt: 'a.b.c' }, 400);
  assert.equal(refused.body.code, 'validation_failed');
  const metrics = await fetch(`${stack.adminUrl}/metrics`, { headers: { authorization: `Bearer ${stack.adminToken}` }, dispatcher: stack.client });
  assert.equal(metrics.status, 200);
  assert.match(await metrics.text(), /^# HELP /m);
  // Errors are checked too: a role the route does not name, and a missing token.
  assert.equal((await auditor('GET', '/admin/v1/partners')).status, 403);
  assert.equal((await admin('GET', '/admin/v1/incidents/inc_0000000000000000', {})).status, 404);
  assert.equal((await admin('GET', '/admin/v1/partners', { token: null })).status, 401);
});
