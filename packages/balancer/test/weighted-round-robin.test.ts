import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { WeightedRoundRobin } from '../src/index.js';
import { at, copy, picks, pool, server, tally } from './candidates.js';

/** Picks as the letters a, b, c… of the servers' positions, to compare with nginx's sequences. */
function letters(keys: readonly (string | null)[], s: readonly { key: string }[]): string {
  return keys.map((k) => String.fromCharCode(97 + s.findIndex((x) => x.key === k))).join(' ');
}

function longestRun(keys: readonly (string | null)[]): number {
  let best = 0;
  let run = 0;
  for (let i = 0; i < keys.length; i++) {
    run = i > 0 && keys[i] === keys[i - 1] ? run + 1 : 1;
    best = Math.max(best, run);
  }
  return best;
}

describe('weighted (smooth weighted round robin)', () => {
  test("follows nginx's sequences: 5:1:1 → a a b a c a a, 5:3:2 → a b c a a b a c b a", () => {
    const s1 = pool(3, [5, 1, 1]);
    assert.equal(letters(picks(new WeightedRoundRobin(s1, { offset: 0 }), 14), s1), 'a a b a c a a a a b a c a a');
    const s2 = pool(3, [5, 3, 2]);
    assert.equal(letters(picks(new WeightedRoundRobin(s2, { offset: 0 }), 10), s2), 'a b c a a b a c b a');
  });

  test('5:3:2 gives exactly 5/3/2 in every window of 10 consecutive picks, never 5 in a row', () => {
    const s = pool(3, [5, 3, 2]);
    for (const offset of [0, 1, 2, 7]) {
      const seq = picks(new WeightedRoundRobin(copy(s), { offset }), 200);
      for (let i = 0; i + 10 <= seq.length; i++) {
        const t = tally(seq.slice(i, i + 10));
        assert.deepEqual(
          s.map((x) => t.get(x.key) ?? 0),
          [5, 3, 2],
          `window at ${i} with offset ${offset}`,
        );
      }
      assert.ok(longestRun(seq) <= 2, `longest run ${longestRun(seq)} with offset ${offset}`);
    }
  });

  test('an offset starts the same cycle further along', () => {
    const s = pool(3, [5, 3, 2]);
    const base = picks(new WeightedRoundRobin(copy(s), { offset: 0 }), 30);
    for (const offset of [1, 3, 9, 13]) {
      const shifted = picks(new WeightedRoundRobin(copy(s), { offset }), 20);
      const skip = offset % 10;
      assert.deepEqual(shifted, base.slice(skip, skip + 20), `offset ${offset}`);
    }
    // Two workers start on different servers, so their first requests do not coincide.
    assert.notEqual(picks(new WeightedRoundRobin(copy(s), { offset: 0 }), 1)[0], picks(new WeightedRoundRobin(copy(s), { offset: 1 }), 1)[0]);
  });

  test('skips unavailable and avoided servers; the rest keep their proportions', () => {
    const s = pool(3, [5, 3, 2]);
    at(s, 0).available = false;
    const b = new WeightedRoundRobin(s, { offset: 0 });
    const t = tally(picks(b, 500));
    assert.equal(t.get(at(s, 0).key), undefined);
    assert.ok(Math.abs((t.get(at(s, 1).key) ?? 0) - 300) <= 5, `b got ${t.get(at(s, 1).key)}`);
    assert.ok(Math.abs((t.get(at(s, 2).key) ?? 0) - 200) <= 5, `c got ${t.get(at(s, 2).key)}`);
    const avoid = new Set([at(s, 1)]);
    for (let i = 0; i < 5; i++) assert.equal(b.pick('', avoid)?.key, at(s, 2).key);
    assert.equal(b.pick('', new Set([at(s, 1), at(s, 2)])), null);
  });

  test('returns null when nothing is available, and when there are no servers', () => {
    assert.equal(new WeightedRoundRobin([server('p/a:1', 3, false)], { offset: 1 }).pick('', null), null);
    assert.equal(new WeightedRoundRobin([], { offset: 1 }).pick('', null), null);
  });

  test('property: with all available, every window of sum(weights) picks holds each weight exactly', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 8 }), fc.nat({ max: 40 }), (weights, offset) => {
        const s = pool(weights.length, weights);
        const total = weights.reduce((a, b) => a + b, 0);
        const seq = picks(new WeightedRoundRobin(s, { offset }), total * 3);
        for (let i = 0; i + total <= seq.length; i++) {
          const t = tally(seq.slice(i, i + total));
          if (!s.every((x) => t.get(x.key) === x.weight)) return false;
        }
        return true;
      }),
    );
  });

  test('property: smooth, at every point each server is within two picks of its exact share', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 10 }), (weights) => {
        const s = pool(weights.length, weights);
        const total = weights.reduce((a, b) => a + b, 0);
        const b = new WeightedRoundRobin(s, { offset: 0 });
        const count = new Map<string, number>();
        // A burst (all of a server's picks in a row) would put it w·(1 - w/W) picks ahead.
        for (let k = 1; k <= total * 2; k++) {
          const key = b.pick('', null)?.key as string;
          count.set(key, (count.get(key) ?? 0) + 1);
          if (s.some((x) => Math.abs((count.get(x.key) ?? 0) - (k * x.weight) / total) >= 2)) return false;
        }
        return true;
      }),
    );
  });

  test('no burst after a health change: scores restart for the servers still available', () => {
    const s = pool(3, [100, 1, 1]);
    const b = new WeightedRoundRobin(s, { offset: 0 });
    // Mid-cycle, b has been picked and c not yet: their scores are ~100 apart.
    picks(b, 60);
    at(s, 0).available = false;
    const seq = picks(b, 20);
    assert.ok(longestRun(seq) === 1, `after the big server went down: ${letters(seq, s)}`);
    at(s, 0).available = true;
    const back = picks(b, 102);
    assert.deepEqual(
      [...tally(back).values()].sort((x, y) => x - y),
      [1, 1, 100],
    );
  });

  test('property: after any history of outages, every window of the available total holds each weight exactly', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ weight: fc.integer({ min: 1, max: 10 }), up: fc.boolean() }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.tuple(fc.nat(), fc.nat({ max: 30 })), { maxLength: 6 }),
        fc.nat({ max: 8 }),
        (spec, history, offset) => {
          const s = spec.map((x, i) => server(`p/s${i}:1`, x.weight, true));
          const b = new WeightedRoundRobin(s, { offset });
          for (const [which, count] of history) {
            const x = at(s, which % s.length);
            x.available = !x.available;
            picks(b, count);
          }
          spec.forEach((x, i) => {
            at(s, i).available = x.up;
          });
          const total = s.reduce((a, x) => a + (x.available ? x.weight : 0), 0);
          if (total === 0) return picks(b, 3).every((k) => k === null);
          const seq = picks(b, total * 3);
          for (let i = 0; i + total <= seq.length; i++) {
            const t = tally(seq.slice(i, i + total));
            if (!s.every((x) => (t.get(x.key) ?? 0) === (x.available ? x.weight : 0))) return false;
          }
          return true;
        },
      ),
    );
  });
});
