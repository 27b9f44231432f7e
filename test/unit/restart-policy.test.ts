// Issue 17 item 2: a dead worker is replaced; the fifth death within 60 s stops the service.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { restartPolicy } from '../../src/cli/restart-policy.ts';

test('four deaths within the window are restarted, the fifth stops the service', () => {
  const p = restartPolicy(5, 60_000);
  for (let i = 0; i < 4; i++) assert.equal(p.shouldRestart(1000 + i * 1000), true);
  assert.equal(p.shouldRestart(5000), false);
  assert.equal(p.recentDeaths, 5);
});

test('deaths older than the window no longer count', () => {
  const p = restartPolicy(5, 60_000);
  for (let i = 0; i < 4; i++) assert.equal(p.shouldRestart(i * 10_000), true);
  // Just over 60 s after the first: it has left the window, so this is the fourth within 60 s.
  assert.equal(p.shouldRestart(60_001), true);
  assert.equal(p.recentDeaths, 4);
  // The deaths at 10, 20, 30, 60.001 and 65 s are five within 60 s.
  assert.equal(p.shouldRestart(65_000), false);
});
