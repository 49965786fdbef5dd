import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { RoundRobin } from '../src/index.js';
import { copy, picks, pool, server, tally } from './candidates.js';

describe('round_robin', () => {
  test('rotates through the servers in order', () => {
    const s = pool(3);
    const b = new RoundRobin(s, { offset: 0 });
    assert.deepEqual(
      picks(b, 7),
      [s[0], s[1], s[2], s[0], s[1], s[2], s[0]].map((x) => x?.key),
    );
  });

  test('each offset starts the same rotation at a different server', () => {
    const s = pool(4);
    const firsts = [0, 1, 2, 3].map((offset) => new RoundRobin(copy(s), { offset }).pick('', null)?.key);
    assert.deepEqual(
      firsts,
      s.map((x) => x.key),
    );
    // Offsets beyond the pool size wrap, so any number of workers gets a valid start.
    assert.equal(new RoundRobin(s, { offset: 6 }).pick('', null)?.key, s[2]?.key);
    const base = picks(new RoundRobin(copy(s), { offset: 0 }), 12);
    const shifted = picks(new RoundRobin(copy(s), { offset: 1 }), 12);
    assert.deepEqual(shifted.slice(0, 11), base.slice(1, 12));
  });

  test('skips unavailable and avoided servers without breaking the rotation of the others', () => {
    const s = pool(4);
    (s[1] as { available: boolean }).available = false;
    const b = new RoundRobin(s, { offset: 0 });
    assert.deepEqual(
      picks(b, 6),
      [s[0], s[2], s[3], s[0], s[2], s[3]].map((x) => x?.key),
    );
    const avoid = new Set([s[2] as (typeof s)[number]]);
    assert.equal(b.pick('', avoid)?.key, s[0]?.key);
    assert.equal(b.pick('', avoid)?.key, s[3]?.key);
  });

  test('returns null when nothing is available, and when there are no servers', () => {
    const s = [server('p/a:1', 1, false), server('p/b:1', 1, false)];
    assert.equal(new RoundRobin(s, { offset: 0 }).pick('', null), null);
    assert.equal(new RoundRobin([], { offset: 3 }).pick('', null), null);
    const up = pool(2);
    assert.equal(new RoundRobin(up, { offset: 0 }).pick('', new Set(up)), null);
  });

  test('property: every server available gets exactly k of k×m picks, from any offset', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { minLength: 1, maxLength: 12 }), fc.nat({ max: 64 }), fc.integer({ min: 1, max: 20 }), (up, offset, k) => {
        const s = up.map((a, i) => server(`p/s${i}:1`, 1, a));
        const m = up.filter(Boolean).length;
        const got = tally(picks(new RoundRobin(s, { offset }), Math.max(1, m) * k));
        if (m === 0) return got.get(null) === k;
        return s.every((x) => (got.get(x.key) ?? 0) === (x.available ? k : 0));
      }),
    );
  });
});
