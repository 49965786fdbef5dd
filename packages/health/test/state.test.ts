import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { INITIAL_HEALTH, nextDeadline, type Observation, observePassive, observeProbe, type ServerHealth, tick } from '../src/index.js';

const T = { unhealthyThreshold: 3, healthyThreshold: 2, cooldownMs: 30_000 };

/** Feeds probe results (true = pass) at the given times; returns every observation. */
function probes(start: ServerHealth, results: readonly (readonly [number, boolean])[], t = T): Observation[] {
  const out: Observation[] = [];
  let s = start;
  for (const [at, ok] of results) {
    const o = observeProbe(s, ok, ok ? null : 'refused', at, t);
    out.push(o);
    s = o.state;
  }
  return out;
}

function last(os: readonly Observation[]): Observation {
  const o = os.at(-1);
  assert.ok(o !== undefined);
  return o;
}

/** A server taken down by three failed probes at 0, 1000 and 2000. */
function downAt2000(): ServerHealth {
  const s = last(
    probes(INITIAL_HEALTH, [
      [0, false],
      [1000, false],
      [2000, false],
    ]),
  ).state;
  assert.equal(s.healthy, false);
  assert.equal(s.downSince, 2000);
  return s;
}

describe('fall', () => {
  test('a server starts healthy', () => {
    assert.equal(INITIAL_HEALTH.healthy, true);
    assert.equal(nextDeadline(INITIAL_HEALTH, T), null);
  });

  test('unhealthy_threshold consecutive failures take it down, once, with the reason', () => {
    const os = probes(INITIAL_HEALTH, [
      [0, false],
      [1000, false],
      [2000, false],
      [3000, false],
    ]);
    assert.deepEqual(
      os.map((o) => o.transition),
      [null, null, 'down', null],
    );
    assert.equal(os[1]?.state.healthy, true);
    assert.equal(os[2]?.state.healthy, false);
    assert.equal(os[2]?.state.lastError, 'refused');
    assert.equal(os[2]?.state.downSince, 2000);
  });

  test('a success in between resets the count: failures must be consecutive', () => {
    const os = probes(INITIAL_HEALTH, [
      [0, false],
      [1000, false],
      [2000, true],
      [3000, false],
      [4000, false],
    ]);
    assert.ok(os.every((o) => o.transition === null && o.state.healthy));
    assert.equal(last(os).state.failures, 2);
    assert.equal(observeProbe(last(os).state, false, 'timeout', 5000, T).transition, 'down');
  });

  test('unhealthy_threshold 1: the first failure takes it down', () => {
    const o = observeProbe(INITIAL_HEALTH, false, 'bad status 503', 0, { ...T, unhealthyThreshold: 1 });
    assert.equal(o.transition, 'down');
    assert.equal(o.state.lastError, 'bad status 503');
  });

  test('passive failures count with probe failures toward the same threshold', () => {
    let o = observePassive(INITIAL_HEALTH, 1, 0, 'refused', 0, T);
    assert.equal(o.transition, null);
    o = observeProbe(o.state, false, 'refused', 100, T);
    assert.equal(o.transition, null);
    o = observePassive(o.state, 1, 0, 'reset', 200, T);
    assert.equal(o.transition, 'down');
    assert.equal(o.state.lastError, 'reset');
  });

  test('a batch of failures counts each one', () => {
    const o = observePassive(INITIAL_HEALTH, 5, 0, 'refused', 0, T);
    assert.equal(o.transition, 'down');
  });

  test('a passive success (after the failures in its batch) resets the count', () => {
    let o = observePassive(INITIAL_HEALTH, 2, 0, 'refused', 0, T);
    assert.equal(o.state.failures, 2);
    o = observePassive(o.state, 4, 1, 'refused', 10, T);
    assert.equal(o.transition, null);
    assert.equal(o.state.failures, 0);
    assert.equal(o.state.healthy, true);
  });

  test('a passing probe resets failures that workers reported', () => {
    let o = observePassive(INITIAL_HEALTH, 2, 0, 'refused', 0, T);
    o = observeProbe(o.state, true, null, 10, T);
    assert.equal(o.state.failures, 0);
    o = observePassive(o.state, 2, 0, 'refused', 20, T);
    assert.equal(o.state.healthy, true);
  });
});

describe('rise and cooldown', () => {
  test('healthy_threshold consecutive successes after the cooldown bring it back', () => {
    const down = downAt2000();
    const os = probes(down, [
      [32_000, true],
      [33_000, true],
    ]);
    assert.deepEqual(
      os.map((o) => o.transition),
      [null, 'up'],
    );
    const up = last(os).state;
    assert.equal(up.healthy, true);
    assert.equal(up.downSince, null);
    assert.equal(up.failures, 0);
    assert.equal(up.successes, 0);
  });

  test('a failure in between resets the successes: they must be consecutive', () => {
    const os = probes(downAt2000(), [
      [32_000, true],
      [33_000, false],
      [34_000, true],
    ]);
    assert.ok(os.every((o) => o.transition === null && !o.state.healthy));
    assert.equal(last(os).state.successes, 1);
    assert.equal(last(os).state.lastError, 'refused');
    assert.equal(observeProbe(last(os).state, true, null, 35_000, T).transition, 'up');
  });

  test('successes within the cooldown do not bring it back before the cooldown ends', () => {
    const os = probes(downAt2000(), [
      [3000, true],
      [4000, true],
      [5000, true],
      [31_999, true],
    ]);
    assert.ok(os.every((o) => o.transition === null && !o.state.healthy));
    // The cooldown ends at 2000 + 30000: the deadline is known, and a tick then brings it back.
    assert.equal(nextDeadline(last(os).state, T), 32_000);
    assert.equal(tick(last(os).state, 31_999, T).transition, null);
    const o = tick(last(os).state, 32_000, T);
    assert.equal(o.transition, 'up');
    assert.equal(o.state.healthy, true);
    assert.equal(nextDeadline(o.state, T), null);
  });

  test('a probe that fails after the successes, within the cooldown, cancels the return', () => {
    const os = probes(downAt2000(), [
      [3000, true],
      [4000, true],
      [20_000, false],
    ]);
    assert.equal(last(os).state.successes, 0);
    assert.equal(nextDeadline(last(os).state, T), null);
    assert.equal(tick(last(os).state, 40_000, T).transition, null);
  });

  test('with too few successes there is no deadline, and the cooldown ending alone changes nothing', () => {
    const os = probes(downAt2000(), [[3000, true]]);
    assert.equal(nextDeadline(last(os).state, T), null);
    assert.equal(tick(last(os).state, 100_000, T).transition, null);
  });

  test('passive signals never bring an unhealthy server back, nor move it', () => {
    const down = downAt2000();
    for (const o of [observePassive(down, 0, 5, null, 40_000, T), observePassive(down, 3, 0, 'refused', 40_000, T)]) {
      assert.equal(o.transition, null);
      assert.equal(o.state, down);
    }
  });

  test('cooldown 0: back as soon as the successes are there', () => {
    const t = { ...T, cooldownMs: 0 };
    const down = last(
      probes(
        INITIAL_HEALTH,
        [
          [0, false],
          [1, false],
          [2, false],
        ],
        t,
      ),
    ).state;
    const os = probes(
      down,
      [
        [3, true],
        [4, true],
      ],
      t,
    );
    assert.equal(last(os).transition, 'up');
  });

  test('going down again restarts the cooldown from the new transition', () => {
    const up = last(
      probes(downAt2000(), [
        [32_000, true],
        [33_000, true],
      ]),
    ).state;
    const again = last(
      probes(up, [
        [34_000, false],
        [35_000, false],
        [36_000, false],
      ]),
    );
    assert.equal(again.transition, 'down');
    assert.equal(again.state.downSince, 36_000);
    const os = probes(again.state, [
      [37_000, true],
      [38_000, true],
    ]);
    assert.equal(nextDeadline(last(os).state, T), 66_000);
  });

  test('the functions are pure: the input state is never changed', () => {
    const down = downAt2000();
    const copy = { ...down };
    observeProbe(down, true, null, 40_000, T);
    observePassive(down, 1, 0, 'refused', 40_000, T);
    tick(down, 40_000, T);
    assert.deepEqual(down, copy);
  });
});
