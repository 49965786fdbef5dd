import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { IpHash } from '../src/index.js';
import { at, copy, pool, prng, randomIpv4, randomIpv6, server, type TestServer, tally } from './candidates.js';

const key = (b: IpHash, ip: string, avoid: ReadonlySet<TestServer> | null = null) => b.pick(ip, avoid)?.key ?? null;

function ips(count: number, seed: number, make = randomIpv4): string[] {
  const next = prng(seed);
  return Array.from({ length: count }, () => make(next));
}

describe('ip_hash (consistent hashing)', () => {
  test('the same IP always lands on the same server, also in a second, independently built balancer', () => {
    const s = pool(5);
    const one = new IpHash(s);
    // What another worker builds from the same server table: other objects, same keys.
    const two = new IpHash(copy(s));
    for (const ip of [...ips(2000, 1), ...ips(2000, 2, randomIpv6)]) {
      const first = key(one, ip);
      assert.equal(key(one, ip), first);
      assert.equal(key(two, ip), first, ip);
    }
  });

  test('the server order in the table does not matter, only the server keys', () => {
    const s = pool(5);
    const reversed = new IpHash(copy(s).reverse());
    const straight = new IpHash(s);
    for (const ip of ips(2000, 3)) assert.equal(key(reversed, ip), key(straight, ip));
  });

  test('IPv4, IPv6 and IPv4-mapped IPv6: a mapped address hashes like the IPv4 it carries, any spelling', () => {
    const b = new IpHash(pool(7));
    for (const ip of ips(500, 4)) {
      const [o1, o2, o3, o4] = ip.split('.').map(Number) as [number, number, number, number];
      const hex = `${((o1 << 8) | o2).toString(16)}:${((o3 << 8) | o4).toString(16)}`;
      for (const mapped of [`::ffff:${ip}`, `::FFFF:${ip}`, `0:0:0:0:0:ffff:${ip}`, `::ffff:${hex}`]) assert.equal(key(b, mapped), key(b, ip), mapped);
    }
    for (const spelling of ['2001:DB8::1', '2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8:0:0::1', '2001:db8::1%eth0']) {
      assert.equal(key(b, spelling), key(b, '2001:db8::1'), spelling);
    }
  });

  test('IPv4 and IPv6 clients both spread over all servers (about 1/N each)', () => {
    const s = pool(5);
    const b = new IpHash(s);
    for (const [what, list] of [
      ['IPv4', ips(10_000, 5)],
      ['IPv6', ips(10_000, 6, randomIpv6)],
    ] as const) {
      const t = tally(list.map((ip) => key(b, ip)));
      for (const x of s) {
        const share = (t.get(x.key) ?? 0) / list.length;
        assert.ok(share > 0.15 && share < 0.25, `${what}: ${x.key} has ${share}`);
      }
    }
  });

  test('weights give proportional shares of clients', () => {
    const s = pool(2, [3, 1]);
    const b = new IpHash(s);
    const t = tally(ips(10_000, 7).map((ip) => key(b, ip)));
    const share = (t.get(at(s, 0).key) ?? 0) / 10_000;
    assert.ok(share > 0.7 && share < 0.8, `weight 3 of 4 got ${share}`);
  });

  test('property: for any 2–6 servers and weights 1–4, each server’s share of 20,000 clients is within 35% of its weight’s share', () => {
    const address = fc.tuple(fc.nat({ max: 255 }), fc.nat({ max: 255 }), fc.integer({ min: 1, max: 65535 })).map(([a, b, p]) => `api/10.${a}.${b}.1:${p}`);
    const list = ips(20_000, 10);
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(address, fc.integer({ min: 1, max: 4 })), { minLength: 2, maxLength: 6, selector: ([k]) => k }), (entries) => {
        const s = entries.map(([k, w]) => server(k, w));
        const b = new IpHash(s);
        const t = tally(list.map((ip) => key(b, ip)));
        const total = s.reduce((sum, x) => sum + x.weight, 0);
        return s.every((x) => {
          const expected = x.weight / total;
          return Math.abs((t.get(x.key) ?? 0) / list.length - expected) <= 0.35 * expected;
        });
      }),
      { numRuns: 25, seed: 20261127 },
    );
  });

  test('removing 1 of 5 servers remaps at most 25% of 10,000 IPs, and only the removed server’s', () => {
    const s = pool(5);
    const full = new IpHash(s);
    const list = ips(10_000, 8);
    for (const removed of s) {
      const rest = new IpHash(s.filter((x) => x !== removed));
      let moved = 0;
      for (const ip of list) {
        const before = key(full, ip);
        const after = key(rest, ip);
        if (before === after) continue;
        moved++;
        assert.equal(before, removed.key, `${ip} moved from ${before}, a server that stayed`);
      }
      assert.ok(moved <= 2500, `removing ${removed.key} moved ${moved}`);
      assert.ok(moved >= 1500, `removing ${removed.key} moved only ${moved}: shares are uneven`);
    }
  });

  test('property: for any 5 server addresses, removing one remaps ≤ 25% of 10,000 IPs, only its own', () => {
    const address = fc.tuple(fc.nat({ max: 255 }), fc.nat({ max: 255 }), fc.integer({ min: 1, max: 65535 })).map(([a, b, p]) => `api/10.${a}.${b}.1:${p}`);
    const list = ips(10_000, 9);
    fc.assert(
      fc.property(fc.uniqueArray(address, { minLength: 5, maxLength: 5 }), fc.nat({ max: 4 }), (keys, r) => {
        const s = keys.map((k) => server(k));
        const full = new IpHash(s);
        const rest = new IpHash(s.filter((_, i) => i !== r));
        let moved = 0;
        for (const ip of list) {
          const before = key(full, ip);
          if (before === key(rest, ip)) continue;
          if (before !== keys[r]) return false;
          moved++;
        }
        return moved <= 2500;
      }),
      { numRuns: 40 },
    );
  });

  test('an unavailable server’s clients go to their next choice, and come back when it recovers', () => {
    const s = pool(5);
    const b = new IpHash(s);
    const list = ips(5000, 10);
    const home = new Map(list.map((ip) => [ip, key(b, ip)]));
    const down = at(s, 2);
    // Their next choice is where they would go if the server were not in the pool at all.
    const without = new IpHash(copy(s).filter((x) => x.key !== down.key));
    down.available = false;
    let moved = 0;
    for (const ip of list) {
      const now = key(b, ip);
      assert.notEqual(now, down.key);
      assert.equal(now, key(without, ip));
      if (home.get(ip) === down.key) moved++;
      else assert.equal(now, home.get(ip), 'a client of a healthy server moved');
    }
    assert.ok(moved > 0);
    down.available = true;
    for (const ip of list) assert.equal(key(b, ip), home.get(ip));
  });

  test('avoid works like unavailability for that one request (a retry)', () => {
    const s = pool(4);
    const b = new IpHash(s);
    for (const ip of ips(500, 11)) {
      const first = b.pick(ip, null) as TestServer;
      const retry = b.pick(ip, new Set([first])) as TestServer;
      assert.notEqual(retry, first);
      first.available = false;
      assert.equal(b.pick(ip, null), retry);
      first.available = true;
      const third = b.pick(ip, new Set([first, retry]));
      assert.ok(third !== null && third !== first && third !== retry);
    }
  });

  test('returns null when nothing is available, and when there are no servers', () => {
    const s = pool(3);
    for (const x of s) x.available = false;
    assert.equal(new IpHash(s).pick('192.0.2.1', null), null);
    assert.equal(new IpHash([]).pick('192.0.2.1', null), null);
    const up = pool(3);
    assert.equal(new IpHash(up).pick('2001:db8::1', new Set(up)), null);
  });

  test('a large, heavily weighted pool still builds a bounded ring that uses every server', () => {
    const s = pool(100, new Array<number>(100).fill(1000));
    s.push(server('pool/light:80', 1));
    const b = new IpHash(s);
    const t = tally(ips(20_000, 12).map((ip) => key(b, ip)));
    assert.equal(t.get(null), undefined);
    assert.ok(s.slice(0, 100).every((x) => (t.get(x.key) ?? 0) > 0));
  });

  test('property: never picks an unavailable or avoided server; null only when none is left', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ available: fc.boolean(), avoided: fc.boolean(), weight: fc.integer({ min: 1, max: 5 }) }), { minLength: 1, maxLength: 8 }),
        fc.oneof(fc.ipV4(), fc.ipV6()),
        (specs, ip) => {
          const s = specs.map((x, i) => server(`p/s${i}:1`, x.weight, x.available));
          const avoid = new Set(s.filter((_, i) => at(specs, i).avoided));
          const got = new IpHash(s).pick(ip, avoid);
          const ok = s.filter((x) => x.available && !avoid.has(x));
          return ok.length === 0 ? got === null : got !== null && ok.includes(got as TestServer);
        },
      ),
    );
  });
});
