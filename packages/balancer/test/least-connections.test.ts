import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { LeastConnections } from '../src/index.js';
import { at, copy, picks, pool, server, type TestServer, tally } from './candidates.js';

const load = (s: TestServer) => (s.localActive + s.remoteActive) / s.weight;

describe('least_connections', () => {
  test('picks the server with the fewest in-flight requests, counting the other workers', () => {
    const s = pool(3);
    at(s, 0).localActive = 2;
    at(s, 1).localActive = 0;
    at(s, 1).remoteActive = 3;
    at(s, 2).localActive = 1;
    const b = new LeastConnections(s, { offset: 0 });
    assert.equal(b.pick('', null)?.key, at(s, 2).key);
    // A server busy only in other workers is busy all the same.
    at(s, 2).remoteActive = 20;
    assert.equal(b.pick('', null)?.key, at(s, 0).key);
  });

  test('the idle server takes every new request while the other holds 20 of another worker', () => {
    const s = pool(2);
    at(s, 0).remoteActive = 20;
    const b = new LeastConnections(s, { offset: 0 });
    for (let i = 0; i < 19; i++) {
      const p = b.pick('', null) as TestServer;
      assert.equal(p.key, at(s, 1).key);
      p.localActive++;
    }
    // Now 20 against 19: the old server is still the busier one.
    assert.equal(b.pick('', null)?.key, at(s, 1).key);
  });

  test('weights scale the count: load/weight decides', () => {
    const s = pool(2, [3, 1]);
    at(s, 0).localActive = 5; // 5/3
    at(s, 1).localActive = 2; // 2/1
    const b = new LeastConnections(s, { offset: 0 });
    assert.equal(b.pick('', null)?.key, at(s, 0).key);
    at(s, 0).localActive = 7; // 7/3 > 2
    assert.equal(b.pick('', null)?.key, at(s, 1).key);
  });

  test('ties rotate evenly, even with a busier server between the tied ones', () => {
    const s = pool(3);
    at(s, 1).remoteActive = 5;
    const b = new LeastConnections(s, { offset: 0 });
    const t = tally(picks(b, 100));
    assert.equal(t.get(at(s, 0).key), 50);
    assert.equal(t.get(at(s, 2).key), 50);
    const idle = pool(4);
    assert.deepEqual(
      picks(new LeastConnections(idle, { offset: 0 }), 8),
      [...idle, ...idle].map((x) => x.key),
    );
  });

  test('each offset breaks the first tie at a different server', () => {
    const s = pool(3);
    const firsts = [0, 1, 2, 3].map((offset) => new LeastConnections(copy(s), { offset }).pick('', null)?.key);
    assert.deepEqual(firsts, [at(s, 0).key, at(s, 1).key, at(s, 2).key, at(s, 0).key]);
  });

  test('skips unavailable and avoided servers, however idle', () => {
    const s = pool(3);
    at(s, 0).available = false;
    at(s, 1).localActive = 10;
    at(s, 2).localActive = 50;
    const b = new LeastConnections(s, { offset: 0 });
    assert.equal(b.pick('', null)?.key, at(s, 1).key);
    assert.equal(b.pick('', new Set([at(s, 1)])), s[2]);
    assert.equal(b.pick('', new Set([at(s, 1), at(s, 2)])), null);
  });

  test('returns null when nothing is available, and when there are no servers', () => {
    assert.equal(new LeastConnections([server('p/a:1', 1, false)], { offset: 0 }).pick('', null), null);
    assert.equal(new LeastConnections([], { offset: 2 }).pick('', null), null);
  });

  test('property: the pick always has the least load per weight among the eligible servers', () => {
    const spec = fc.record({
      weight: fc.integer({ min: 1, max: 10 }),
      available: fc.boolean(),
      localActive: fc.nat({ max: 30 }),
      remoteActive: fc.nat({ max: 30 }),
      avoided: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(spec, { minLength: 1, maxLength: 10 }), fc.nat({ max: 20 }), (specs, offset) => {
        const s = specs.map((x, i) => ({ ...server(`p/s${i}:1`, x.weight, x.available), localActive: x.localActive, remoteActive: x.remoteActive }));
        const avoid = new Set(s.filter((_, i) => at(specs, i).avoided));
        const eligible = s.filter((x) => x.available && !avoid.has(x));
        const got = new LeastConnections(s, { offset }).pick('', avoid) as TestServer | null;
        if (eligible.length === 0) return got === null;
        return got !== null && eligible.includes(got) && eligible.every((x) => load(got) <= load(x));
      }),
    );
  });

  test('property: through requests starting and finishing in any order, every pick is a least loaded server', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { minLength: 50, maxLength: 300 }),
        (weights, script) => {
          const s = pool(weights.length, weights);
          const b = new LeastConnections(s, { offset: 0 });
          const open: TestServer[] = [];
          for (const step of script) {
            // Mostly new requests; sometimes one finishes (which one: from the script).
            if (step % 3 === 0 && open.length > 0) {
              const [done] = open.splice(step % open.length, 1);
              (done as TestServer).localActive--;
              continue;
            }
            const got = b.pick('', null) as TestServer;
            if (!s.every((x) => load(got) <= load(x))) return false;
            got.localActive++;
            open.push(got);
          }
          return true;
        },
      ),
    );
  });

  test('property: over long runs the least loaded servers share the picks exactly evenly', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 3 }), { minLength: 1, maxLength: 10 }), fc.nat({ max: 20 }), fc.integer({ min: 1, max: 20 }), (loads, offset, k) => {
        const s = loads.map((n, i) => ({ ...server(`p/s${i}:1`), remoteActive: n }));
        const least = s.filter((x) => x.remoteActive === Math.min(...loads));
        // Requests that finish at once: the loads never change, only the tie-break works.
        const t = tally(picks(new LeastConnections(s, { offset }), least.length * k));
        return s.every((x) => (t.get(x.key) ?? 0) === (least.includes(x) ? k : 0));
      }),
    );
  });
});
