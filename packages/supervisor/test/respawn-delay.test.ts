import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BACKOFF_MAX_MS, respawnDelay } from '../src/fleet.js';

test('respawn delay doubles from 100 ms with each quick crash in a row', () => {
  assert.deepEqual([1, 2, 3, 4, 5].map(respawnDelay), [100, 200, 400, 800, 1600]);
});

test('respawn delay is capped at 30 s however long the crash loop', () => {
  assert.equal(BACKOFF_MAX_MS, 30_000);
  for (const n of [10, 11, 50, 1000, Number.MAX_SAFE_INTEGER]) assert.equal(respawnDelay(n), 30_000);
  assert.ok([...Array(40).keys()].map((i) => respawnDelay(i + 1)).every((d, i, all) => i === 0 || d >= (all[i - 1] as number)));
});
