import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ByteClock } from '../src/idle-sweep.js';

test('ByteClock: the milliseconds a byte counter stood still, as the looks saw it', () => {
  const c = new ByteClock();
  assert.equal(c.stillFor(0, 1_000), 0, 'without a start, the first look starts the count');
  assert.equal(c.stillFor(0, 1_400), 400);
  assert.equal(c.stillFor(10, 1_500), 0, 'a byte moved: counting again from this look');
  assert.equal(c.stillFor(10, 2_500), 1_000);
});

test('ByteClock: a start time counts from then at 0 bytes (a session idle from its first moment)', () => {
  const c = new ByteClock(100);
  assert.equal(c.stillFor(0, 600), 500);
  assert.equal(c.stillFor(1, 700), 0);
});

test('ByteClock: restart counts from now whatever moved; forget counts from the next look', () => {
  const c = new ByteClock();
  c.stillFor(5, 0);
  c.restart(5, 3_000);
  assert.equal(c.stillFor(5, 3_200), 200, 'the wait before the restart is not counted');
  c.forget();
  assert.equal(c.stillFor(5, 9_000), 0, 'the same counter, but forgotten: a new count');
  assert.equal(c.stillFor(5, 9_050), 50);
});
