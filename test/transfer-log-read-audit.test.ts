// RULES 49: access to the transfer log is itself logged. Every auditor read route (list, live
// stream, export, verify, a subject's recipients) writes one 'transfer log read' line with who
// (token id and role), what (action), the filter (a subject only as its subjectRef) and when.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { fetch } from 'undici';
import { startStack, waitFor, type Stack } from './harness/stack.ts';
import { adminApi, newPartner } from './harness/admin.ts';

let stack: Stack;
let token = '';
let tokenId = '';
let partner = '';

before(async () => {
  stack = await startStack({ users: 5 });
  const minted = await adminApi(stack, stack.adminToken)('POST', '/admin/v1/tokens', { body: { role: 'auditor' } });
  assert.equal(minted.status, 201, minted.text);
  ({ token, id: tokenId } = minted.body);
  partner = await newPartner(adminApi(stack, stack.adminToken));
});
after(() => stack.close());

const readLine = (requestId: string) =>
  stack.logs.lines.map((l) => JSON.parse(l) as Record<string, any>).find((l) => l.msg === 'transfer log read' && l.requestId === requestId);

/** Opens the route, reads only the headers (the stream and export may go on), then leaves. */
async function read(path: string): Promise<string> {
  const requestId = randomUUID();
  const ac = new AbortController();
  const res = await fetch(`${stack.adminUrl}${path}`, {
    dispatcher: stack.client, signal: ac.signal, headers: { authorization: `Bearer ${token}`, 'x-request-id': requestId },
  });
  assert.equal(res.status, 200, path);
  ac.abort();
  await res.body?.cancel().catch(() => undefined);
  return requestId;
}

const CASES: Array<[string, string, () => Record<string, unknown>]> = [
  [`/admin/v1/transfers?partnerId=PARTNER&purpose=advertising`, 'transfers.list', () => ({ partnerId: partner, purpose: 'advertising' })],
  ['/admin/v1/transfers/stream?decision=denied', 'transfers.stream', () => ({ decision: 'denied' })],
  ['/admin/v1/transfers/export?partnerId=PARTNER', 'transfers.export', () => ({ partnerId: partner })],
  ['/admin/v1/transfers/verify', 'transfers.verify', () => ({})],
];

for (const [path, action, filter] of CASES) {
  test(`${action}: the read is logged with the auditor's token id, the filter and the time`, async () => {
    const id = await read(path.replace('PARTNER', partner));
    await waitFor(() => Boolean(readLine(id)), 2000);
    const line = readLine(id)!;
    assert.deepEqual(line.actor, { tokenId, role: 'auditor' });
    assert.equal(line.action, action);
    assert.deepEqual(line.filter, filter());
    assert.ok(!Number.isNaN(Date.parse(line.time)), 'when (ISO time)');
  });
}

test('subjects.recipients: the read is logged with the user only as its subjectRef', async () => {
  const id = await read('/admin/v1/subjects/u_read_audit_7/recipients');
  await waitFor(() => Boolean(readLine(id)), 2000);
  const line = readLine(id)!;
  assert.deepEqual(line.actor, { tokenId, role: 'auditor' });
  assert.equal(line.action, 'subjects.recipients');
  assert.deepEqual(line.filter, { subjectRef: stack.gateway.deps.transferLog.subjectRef('u_read_audit_7') });
  assert.ok(!stack.logs.text().includes('u_read_audit_7'), 'no raw user id in any log line');
});

// Found by the route fuzzer (seed 468175369): a partnerId filter is whatever the caller typed, so an
// id that names no registered partner is not echoed into the log (it could be anything, even a
// person's name); the read is still recorded, with the filter marked unregistered.
test('a partnerId that names no registered partner is logged as unregistered, never verbatim', async () => {
  for (const path of ['/admin/v1/transfers?partnerId=zzJaneDoezz', '/admin/v1/transfers/export?partnerId=zzJaneDoezz']) {
    const id = await read(path);
    await waitFor(() => Boolean(readLine(id)), 2000);
    assert.deepEqual(readLine(id)!.filter, { partnerId: '(unregistered)' });
  }
  assert.ok(!stack.logs.text().includes('zzJaneDoezz'), 'the typed id is in no log line');
});
