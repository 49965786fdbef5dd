import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Algorithm } from '@rustlb/core';
import fc from 'fast-check';
import { ALGORITHMS, type Candidate, createBalancer, IpHash, LeastConnections, RoundRobin, WeightedRoundRobin } from '../src/index.js';
import { copy, pool, server, type TestServer } from './candidates.js';

const NAMES = Object.keys(ALGORITHMS) as Algorithm[];

/** One step of a random history: a server goes up or down, its load changes, or a request picks. */
type Op =
  | { kind: 'toggle'; server: number }
  | { kind: 'load'; server: number; local: number; remote: number }
  | { kind: 'pick'; ip: string; avoid: readonly number[] };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('toggle' as const), server: fc.nat() }),
  fc.record({ kind: fc.constant('load' as const), server: fc.nat(), local: fc.nat({ max: 20 }), remote: fc.nat({ max: 20 }) }),
  fc.record({ kind: fc.constant('pick' as const), ip: fc.oneof(fc.ipV4(), fc.ipV6()), avoid: fc.array(fc.nat(), { maxLength: 3 }) }),
  fc.record({ kind: fc.constant('pick' as const), ip: fc.oneof(fc.ipV4(), fc.ipV6()), avoid: fc.constant<readonly number[]>([]) }),
);

/** Plays the history on a fresh balancer; returns the picked keys, checking each pick on the way. */
function play(algorithm: Algorithm, weights: readonly number[], offset: number, ops: readonly Op[]): (string | null)[] {
  const s = pool(weights.length, weights);
  const b = createBalancer(algorithm, s, { offset });
  const out: (string | null)[] = [];
  for (const o of ops) {
    if (o.kind === 'toggle') {
      const x = s[o.server % s.length] as TestServer;
      x.available = !x.available;
    } else if (o.kind === 'load') {
      const x = s[o.server % s.length] as TestServer;
      x.localActive = o.local;
      x.remoteActive = o.remote;
    } else {
      const avoid = o.avoid.length === 0 ? null : new Set<Candidate>(o.avoid.map((i) => s[i % s.length] as TestServer));
      const got = b.pick(o.ip, avoid);
      const ok = s.filter((x) => x.available && !avoid?.has(x));
      if (got === null) assert.equal(ok.length, 0, `${algorithm} returned null with ${ok.length} eligible`);
      else assert.ok(ok.includes(got as TestServer), `${algorithm} picked ${got.key}, which is unavailable or avoided`);
      out.push(got?.key ?? null);
    }
  }
  return out;
}

describe('every algorithm', () => {
  test('the registry builds each algorithm by its config name', () => {
    const s = pool(2);
    assert.ok(createBalancer('round_robin', s, { offset: 0 }) instanceof RoundRobin);
    assert.ok(createBalancer('weighted', s, { offset: 0 }) instanceof WeightedRoundRobin);
    assert.ok(createBalancer('least_connections', s, { offset: 0 }) instanceof LeastConnections);
    assert.ok(createBalancer('ip_hash', s, { offset: 0 }) instanceof IpHash);
    for (const name of NAMES) assert.equal(createBalancer(name, s, { offset: 0 }).algorithm, name);
  });

  test('property: never picks an unavailable or avoided server, null only when nothing is eligible; same history → same picks', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...NAMES),
        fc.array(fc.integer({ min: 1, max: 10 }), { minLength: 1, maxLength: 8 }),
        fc.nat({ max: 16 }),
        fc.array(op, { maxLength: 80 }),
        (algorithm, weights, offset, ops) => {
          const first = play(algorithm, weights, offset, ops);
          // Built again from scratch (another worker with the same slot, or a restart): same answers.
          assert.deepEqual(play(algorithm, weights, offset, ops), first);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('all return null when nothing is available, for any client', () => {
    for (const name of NAMES) {
      const s = pool(4).map((x) => ({ ...x, available: false }));
      const b = createBalancer(name, s, { offset: 1 });
      for (const ip of ['192.0.2.1', '2001:db8::1', '::ffff:192.0.2.1', '']) assert.equal(b.pick(ip, null), null, `${name} ${ip}`);
      assert.equal(createBalancer(name, [], { offset: 0 }).pick('192.0.2.1', null), null, `${name} without servers`);
      const one = [server('p/only:1')];
      assert.equal(createBalancer(name, one, { offset: 0 }).pick('192.0.2.1', new Set(one)), null, `${name} all avoided`);
    }
  });

  test('servers held by two workers: same keys, separate objects, independent state', () => {
    const s = pool(3, [2, 1, 1]);
    for (const name of NAMES) {
      const w0 = createBalancer(name, s, { offset: 0 });
      const w1 = createBalancer(name, copy(s), { offset: 0 });
      for (let i = 0; i < 12; i++) assert.equal(w0.pick(`10.0.0.${i}`, null)?.key, w1.pick(`10.0.0.${i}`, null)?.key, name);
    }
  });
});
