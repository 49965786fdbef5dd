import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import { JitteredScheduler, jittered } from '../src/index.js';

// Virtual time: setTimeout and Date are mocked, the scheduler's clock reads Date.now().
beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 }));
afterEach(() => mock.timers.reset());

/** Advances virtual time 1 ms at a time, letting promise callbacks run in between. */
async function advance(ms: number): Promise<void> {
  for (let i = 0; i < ms; i++) {
    mock.timers.tick(1);
    await new Promise<void>((r) => setImmediate(r));
  }
}

function scheduler(random: () => number): JitteredScheduler {
  return new JitteredScheduler({ random, now: () => Date.now() });
}

function gaps(times: readonly number[]): number[] {
  return times.slice(1).map((t, i) => t - (times[i] as number));
}

describe('jitter', () => {
  test('a period is the interval ±10%', () => {
    assert.equal(jittered(1000, 0), 900);
    assert.equal(jittered(1000, 0.5), 1000);
    assert.ok(jittered(1000, 0.999_999) < 1100 && jittered(1000, 0.999_999) > 1099);
    const samples = Array.from({ length: 10_000 }, () => jittered(1000, Math.random()));
    assert.ok(
      samples.every((p) => p >= 900 && p < 1100),
      'every period within ±10%',
    );
    // Spread over the whole range, so that servers drift apart rather than fire together.
    assert.ok(samples.some((p) => p < 920) && samples.some((p) => p > 1080));
  });

  test('runs follow the jittered periods, measured start to start', async () => {
    const randoms = [0.5, 0, 1 - 1e-9, 0.25, 0.75];
    let i = 0;
    const s = scheduler(() => randoms[i++ % randoms.length] as number);
    const starts: number[] = [];
    s.schedule('a', 1000, async () => {
      starts.push(Date.now());
    });
    await advance(4500);
    s.cancelAll();
    // First run after 0.5 × min(10% of 1000, 1000) = 50; then 900, ~1100, 950, 1050.
    assert.equal(starts[0], 50);
    assert.deepEqual(gaps(starts), [900, 1100, 950, 1050]);
  });

  test('the first run comes within 10% of the interval, and at most 1 s', async () => {
    const near1 = () => 1 - 1e-9;
    const short = scheduler(near1);
    const long = scheduler(near1);
    const firsts: Record<string, number> = {};
    short.schedule('short', 2000, async () => {
      firsts.short ??= Date.now();
    });
    long.schedule('long', 60_000, async () => {
      firsts.long ??= Date.now();
    });
    await advance(1001);
    short.cancelAll();
    long.cancelAll();
    assert.equal(firsts.short, 200);
    assert.equal(firsts.long, 1000);
  });
});

describe('runs', () => {
  test('a slow run does not stretch the interval', async () => {
    const s = scheduler(() => 0.5);
    const starts: number[] = [];
    s.schedule('a', 1000, async () => {
      starts.push(Date.now());
      await new Promise((r) => setTimeout(r, 300));
    });
    await advance(3100);
    s.cancelAll();
    assert.deepEqual(gaps(starts), [1000, 1000, 1000]);
  });

  test('a run longer than the interval is never overlapped: the next starts when it ends', async () => {
    const s = scheduler(() => 0.5);
    const starts: number[] = [];
    let running = 0;
    let most = 0;
    s.schedule('a', 1000, async () => {
      starts.push(Date.now());
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 2500));
      running--;
    });
    await advance(8000);
    s.cancelAll();
    assert.equal(most, 1);
    // At once: the 1 ms is the step of the virtual clock (a zero-delay timer needs one tick).
    assert.equal(gaps(starts).length, 3);
    for (const g of gaps(starts)) assert.ok(g >= 2500 && g <= 2501, `gap ${g}`);
  });

  test('rescheduling a key while it runs does not start a second run alongside', async () => {
    const s = scheduler(() => 0);
    let running = 0;
    let most = 0;
    let runs = 0;
    const task = async () => {
      runs++;
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 500));
      running--;
    };
    s.schedule('a', 1000, task);
    await advance(10);
    assert.equal(running, 1);
    s.schedule('a', 1000, task);
    await advance(2000);
    s.cancelAll();
    assert.equal(most, 1);
    assert.ok(runs >= 2, `the new schedule ran (${runs} runs)`);
  });

  test('a task that fails, or throws, keeps its schedule', async () => {
    const s = scheduler(() => 0.5);
    let rejected = 0;
    let thrown = 0;
    s.schedule('rejects', 1000, async () => {
      rejected++;
      throw new Error('probe failed');
    });
    s.schedule('throws', 1000, () => {
      thrown++;
      throw new Error('not even a promise');
    });
    await advance(3100);
    s.cancelAll();
    assert.equal(rejected, 4);
    assert.equal(thrown, 4);
  });

  test('cancel stops a key for good, the others go on', async () => {
    const s = scheduler(() => 0.5);
    const runs = { a: 0, b: 0 };
    s.schedule('a', 1000, async () => {
      runs.a++;
    });
    s.schedule('b', 1000, async () => {
      runs.b++;
    });
    await advance(1100);
    assert.deepEqual(runs, { a: 2, b: 2 });
    s.cancel('a');
    assert.equal(s.has('a'), false);
    assert.equal(s.has('b'), true);
    await advance(2000);
    assert.deepEqual(runs, { a: 2, b: 4 });
    s.cancelAll();
    assert.equal(s.has('b'), false);
    await advance(2000);
    assert.deepEqual(runs, { a: 2, b: 4 });
  });

  test('a run in progress when its key is cancelled plans nothing after it', async () => {
    const s = scheduler(() => 0.5);
    let runs = 0;
    s.schedule('a', 1000, async () => {
      runs++;
      await new Promise((r) => setTimeout(r, 300));
    });
    await advance(100);
    assert.equal(runs, 1);
    s.cancel('a');
    await advance(3000);
    assert.equal(runs, 1);
  });
});
