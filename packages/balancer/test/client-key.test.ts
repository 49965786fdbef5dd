import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { clientKey } from '../src/index.js';

/** The WHATWG URL parser's canonical IPv6 text: an independent judge of "same address". */
function canonical(ip: string): string {
  return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
}

describe('clientKey (what ip_hash hashes)', () => {
  test('IPv4 is kept as it is', () => {
    assert.equal(clientKey('192.0.2.7'), '192.0.2.7');
  });

  test('IPv4-mapped IPv6, in any spelling, becomes the IPv4 address', () => {
    for (const s of ['::ffff:192.0.2.7', '::FFFF:192.0.2.7', '0:0:0:0:0:ffff:192.0.2.7', '::ffff:c000:207', '0000:0000:0000:0000:0000:FFFF:C000:0207']) {
      assert.equal(clientKey(s), '192.0.2.7', s);
    }
  });

  test('IPv6 spellings of one address agree; a zone is ignored', () => {
    const want = clientKey('2001:db8::1');
    for (const s of ['2001:DB8::1', '2001:0db8:0:0:0:0:0:1', '2001:db8:0::0:1', '2001:db8::1%eth0']) assert.equal(clientKey(s), want, s);
    assert.notEqual(clientKey('2001:db8::2'), want);
    assert.notEqual(clientKey('::ffff:0:1'), clientKey('::1'));
  });

  test('text that is not an address is hashed as it is', () => {
    for (const s of ['', 'unknown', '1::2::3', ':::', '2001:db8::g', '::ffff:300.1.1.1']) assert.equal(clientKey(s), s);
  });

  test('property: equal addresses give equal keys, different addresses different keys', () => {
    fc.assert(
      fc.property(fc.ipV6(), fc.ipV6(), (a, b) => {
        const same = canonical(a) === canonical(b);
        return clientKey(a) === clientKey(canonical(a)) && clientKey(a.toUpperCase()) === clientKey(a) && same === (clientKey(a) === clientKey(b));
      }),
      { numRuns: 500 },
    );
  });

  test('property: an IPv4 address and its mapped IPv6 forms give the same key', () => {
    fc.assert(
      fc.property(fc.ipV4(), (ip) => clientKey(`::ffff:${ip}`) === ip && clientKey(canonical(`::ffff:${ip}`)) === ip && clientKey(ip) === ip),
      { numRuns: 500 },
    );
  });
});
