// RULES 46: the spec is the inventory. Every route mounted on a listener is in that listener's
// served OpenAPI document and every documented operation is mounted, both ways, by method and path.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:https';
import { fetch } from 'undici';
import { startStack, type Stack } from './harness/stack.ts';

interface Layer {
  name?: string;
  slash?: boolean;
  rawPath?: unknown;
  route?: { path: unknown; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

const METHODS = new Set(['get', 'post', 'put', 'patch', 'delete']);
// Express `:param` and OpenAPI `{param}` name the same segment.
const openApiPath = (p: string) => p.replace(/:([A-Za-z]+)/g, '{$1}');

/** "METHOD /path" of every route in an express 5 router stack, nested routers included. */
function mountedRoutes(stack: readonly Layer[], prefix = ''): string[] {
  const out: string[] = [];
  for (const layer of stack) {
    if (layer.route) {
      // A path that is not a plain string (a regex or an array) cannot be listed: say so rather than skip it.
      assert.equal(typeof layer.route.path, 'string', `route ${String(layer.route.path)} has no plain path`);
      for (const [m, on] of Object.entries(layer.route.methods)) {
        assert.ok(METHODS.has(m) || !on, `route ${String(layer.route.path)} uses method ${m}`);
        if (on) out.push(`${m.toUpperCase()} ${openApiPath(prefix + (layer.route.path as string))}`);
      }
    } else if (layer.handle?.stack) {
      const mount = layer.slash ? '' : layer.rawPath;
      assert.equal(typeof mount, 'string', `router ${layer.name} mounted on a path that is not a string`);
      out.push(...mountedRoutes(layer.handle.stack, prefix + (mount as string)));
    } else {
      // Middleware mounted on a path answers requests like a route but is in no route table.
      assert.ok(layer.slash, `middleware ${layer.name} mounted on ${String(layer.rawPath)}: an endpoint outside the inventory`);
    }
  }
  return out;
}

/** "METHOD /path" of every operation in an OpenAPI document. */
function documentedRoutes(doc: { paths: Record<string, Record<string, unknown>> }): string[] {
  return Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).filter((m) => METHODS.has(m)).map((m) => `${m.toUpperCase()} ${path}`));
}

function compare(listener: string, mounted: readonly string[], documented: readonly string[]): void {
  const undocumented = mounted.filter((r) => !documented.includes(r));
  const unmounted = documented.filter((r) => !mounted.includes(r));
  assert.deepEqual(undocumented, [], `${listener} listener: mounted but not in its OpenAPI document: ${undocumented.join(', ')}`);
  assert.deepEqual(unmounted, [], `${listener} listener: in its OpenAPI document but not mounted: ${unmounted.join(', ')}`);
}

let stack: Stack;
before(async () => { stack = await startStack({ users: 5 }); });
after(() => stack.close());

const appOf = (server: Server) => server.listeners('request')[0] as unknown as { router: { stack: Layer[] } };

async function servedDoc(base: string) {
  const res = await fetch(`${base}/openapi.json`, { dispatcher: stack.client });
  assert.equal(res.status, 200);
  return (await res.json()) as { paths: Record<string, Record<string, unknown>> };
}

test('the partner listener mounts exactly the routes of its served OpenAPI document', async () => {
  const mounted = mountedRoutes(appOf(stack.gateway.server).router.stack);
  assert.ok(mounted.includes('GET /v1/subjects/{subject}'), mounted.join('\n'));
  compare('partner', mounted, documentedRoutes(await servedDoc(stack.url)));
});

test('the control-plane listener mounts exactly the routes of its served OpenAPI document', async () => {
  const mounted = mountedRoutes(appOf(stack.gateway.adminServer).router.stack);
  assert.ok(mounted.includes('GET /admin/v1/transfers'), mounted.join('\n'));
  compare('control-plane', mounted, documentedRoutes(await servedDoc(stack.adminUrl)));
});

test('the comparison names a route missing from either side', () => {
  const stackOf = (path: string, method: string): Layer => ({ route: { path, methods: { [method]: true } } });
  const nested: Layer[] = [{ name: 'router', slash: true, handle: { stack: [stackOf('/v1/a/:id', 'get')] } }, { name: 'router', slash: false, rawPath: '/v2', handle: { stack: [stackOf('/b', 'post')] } }];
  const mounted = mountedRoutes(nested);
  assert.deepEqual(mounted, ['GET /v1/a/{id}', 'POST /v2/b']);
  assert.throws(() => mountedRoutes([{ name: 'serveStatic', slash: false, rawPath: '/files' }]), /middleware serveStatic mounted on \/files/);
  assert.throws(() => compare('x', mounted, ['GET /v1/a/{id}']), /x listener: mounted but not in its OpenAPI document: POST \/v2\/b$/m);
  assert.throws(() => compare('x', mounted, [...mounted, 'DELETE /v1/a/{id}']), /x listener: in its OpenAPI document but not mounted: DELETE \/v1\/a\/\{id\}$/m);
});
