import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, type Stack } from '../harness/stack.ts';
import { startTestCluster, type TestCluster } from '../harness/redis-cluster.ts';
import { setupPartner, partnerGet } from '../harness/partner.ts';

let cluster: TestCluster;
let stack: Stack;
before(async () => {
  cluster = await startTestCluster();
  stack = await startStack({ users: 50, redisMode: { mode: 'cluster', nodes: cluster.seeds, server: cluster.nodes[0]!.server } });
});
after(async () => { await stack?.close(); await cluster?.stop(); });

test('smoke', async () => {
  const p = await setupPartner(stack, { processingCountries: ['KZ'], purposes: { service_delivery: { categories: { phone: 'clear' } } } });
  const token = await p.token('service_delivery');
  const page = await partnerGet(stack, token, '/v1/subjects?purpose=service_delivery&limit=10');
  console.log(stack.logs.lines.filter((l) => /CROSSSLOT|"level":[456]0/.test(l)).slice(0, 20).join('\n'));
  assert.equal(page.status, 200, page.text);
  const one = await partnerGet(stack, token, `/v1/subjects/${page.body.items[0].subject}?purpose=service_delivery`);
  assert.equal(one.status, 200, one.text);
  console.log(stack.logs.lines.filter((l) => /CROSSSLOT|"level":[456]0/.test(l)).slice(0, 20).join('\n'));
});
