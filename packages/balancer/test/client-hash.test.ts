import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { clientHash, hash32 } from '../src/index.js';

/** The WHATWG URL parser's canonical IPv6 text: an independent judge of "same address". */
function canonical(ip: string): string {
  return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
}

describe('clientHash (where ip_hash places a client)', () => {
  test('IPv4-mapped IPv6, in any spelling, hashes like the IPv4 address', () => {
    const want = clientHash('192.0.2.7');
    for (const s of ['::ffff:192.0.2.7', '::FFFF:192.0.2.7', '0:0:0:0:0:ffff:192.0.2.7', '::ffff:c000:207', '0000:0000:0000:0000:0000:FFFF:C000:0207']) {
      assert.equal(clientHash(s), want, s);
    }
    assert.notEqual(clientHash('192.0.2.8'), want);
  });

  test('IPv6 spellings of one address agree; a zone is ignored; other addresses differ', () => {
    const want = clientHash('2001:db8::1');
    for (const s of ['2001:DB8::1', '2001:0db8:0:0:0:0:0:1', '2001:db8:0::0:1', '2001:db8::1%eth0', '2001:db8:0:0:0:0:0.0.0.1'])
      assert.equal(clientHash(s), want, s);
    for (const other of ['2001:db8::2', '2001:db8:1::1', '::1', '::', '1::', '::2001:db8:0:1']) assert.notEqual(clientHash(other), want, other);
    // ::1 is not the IPv4 address 0.0.0.1: only ::ffff:0:0/96 maps.
    assert.notEqual(clientHash('::1'), clientHash('0.0.0.1'));
    assert.equal(clientHash('::ffff:0:1'), clientHash('0.0.0.1'));
  });

  test('text that is not an address is hashed as text', () => {
    for (const s of [
      '',
      'unknown',
      '1.2.3',
      '1.2.3.4.5',
      '256.1.1.1',
      '1::2::3',
      ':::',
      ':1::',
      '1:2:3:4:5:6:7:8:9',
      '12345::',
      '2001:db8::g',
      '::ffff:300.1.1.1',
      '1:2:3:4:5:6:7:1.2.3.4',
      '1:',
    ]) {
      assert.equal(clientHash(s), hash32(s), s);
    }
  });

  test('neighbouring addresses are spread, not clustered', () => {
    const buckets = new Array<number>(8).fill(0);
    for (let i = 0; i < 4096; i++) {
      const b = clientHash(`10.0.${i >> 8}.${i & 255}`) >>> 29;
      buckets[b] = (buckets[b] as number) + 1;
    }
    for (const n of buckets) assert.ok(n > 400 && n < 620, `bucket of ${n} in ${buckets.join(',')}`);
  });

  test('property: equal IPv6 addresses hash equal, whatever the spelling; different ones differ', () => {
    fc.assert(
      fc.property(fc.ipV6(), fc.ipV6(), (a, b) => {
        const same = canonical(a) === canonical(b);
        return clientHash(a) === clientHash(canonical(a)) && clientHash(a.toUpperCase()) === clientHash(a) && same === (clientHash(a) === clientHash(b));
      }),
      { numRuns: 1000 },
    );
  });

  test('property: an IPv4 address and its mapped IPv6 forms hash the same; different IPv4 addresses differ', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.ipV4(), (ip, other) => {
        const h = clientHash(ip);
        return clientHash(`::ffff:${ip}`) === h && clientHash(canonical(`::ffff:${ip}`)) === h && (ip === other) === (clientHash(other) === h);
      }),
      { numRuns: 1000 },
    );
  });
});
