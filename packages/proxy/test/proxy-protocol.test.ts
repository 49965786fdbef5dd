import assert from 'node:assert/strict';
import { SocketAddress } from 'node:net';
import { test } from 'node:test';
import fc from 'fast-check';
import { encodeProxyHeader, PROXY_V2_SIGNATURE, ProxyHeader, parseProxyHeader } from '../src/proxy-protocol.js';

const RUNS = 500;

function parse(input: Buffer | string, start = 0, end?: number): { n: number; h: ProxyHeader } {
  const buf = typeof input === 'string' ? Buffer.from(input, 'latin1') : input;
  const h = new ProxyHeader();
  const n = parseProxyHeader(buf, start, end ?? buf.length, h);
  return { n, h };
}

function fields(h: ProxyHeader): unknown[] {
  return [h.version, h.command, h.family, h.sourceAddress, h.sourcePort, h.destAddress, h.destPort];
}

/** A v2 header: ver_cmd, fam, then the block (its length filled in). */
function v2(verCmd: number, fam: number, block: number[] | Buffer, length?: number): Buffer {
  const body = Buffer.from(block);
  const head = Buffer.alloc(16);
  PROXY_V2_SIGNATURE.copy(head);
  head[12] = verCmd;
  head[13] = fam;
  head.writeUInt16BE(length ?? body.length, 14);
  return Buffer.concat([head, body]);
}

const V4_BLOCK = [10, 0, 0, 1, 192, 168, 1, 2, 0x30, 0x39, 0x01, 0xbb]; // 10.0.0.1:12345 -> 192.168.1.2:443
const V6_BLOCK = [
  ...[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
  ...[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4],
  ...[0, 80, 0x1f, 0x90],
];

/** Asserts that every strict prefix needs more bytes and the whole gives `expected`. */
function assertIncremental(buf: Buffer, expected: number): void {
  for (let k = 0; k < expected; k++) {
    const r = parse(buf, 0, k);
    assert.equal(r.n, 0, `prefix of ${k} bytes of ${JSON.stringify(buf.toString('latin1'))}: ${r.h.error}`);
    assert.equal(r.h.error, null);
  }
  assert.equal(parse(buf, 0, expected).n, expected);
}

// ---- version 1 -------------------------------------------------------------------------

test('v1 TCP4: the addresses and ports, the offset just past the CRLF, what follows untouched', () => {
  const { n, h } = parse('PROXY TCP4 203.0.113.7 10.0.0.1 56324 443\r\nGET / HTTP/1.1\r\n');
  assert.equal(n, 'PROXY TCP4 203.0.113.7 10.0.0.1 56324 443\r\n'.length);
  assert.deepEqual(fields(h), [1, 'proxy', 'tcp4', '203.0.113.7', 56324, '10.0.0.1', 443]);
  assert.equal(h.error, null);
});

test('v1 TCP6: addresses normalized as Node prints them, an IPv4-mapped address kept as the header says', () => {
  const { n, h } = parse('PROXY TCP6 2001:DB8:0:0:0:0:0:1 0:0:0:0:0:ffff:1.2.3.4 0 65535\r\n');
  assert.ok(n > 0, String(h.error));
  assert.deepEqual(fields(h), [1, 'proxy', 'tcp6', '2001:db8::1', 0, '::ffff:1.2.3.4', 65535]);
  assert.deepEqual(fields(parse('PROXY TCP6 ::1 :: 1 2\r\n').h), [1, 'proxy', 'tcp6', '::1', 1, '::', 2]);
});

test('v1 UNKNOWN: with or without the rest of a line (ignored, as the spec says), family unknown', () => {
  for (const line of ['PROXY UNKNOWN\r\n', 'PROXY UNKNOWN 1.2.3.4 5.6.7.8 1 2\r\n', 'PROXY UNKNOWN anything at all\r\n']) {
    const { n, h } = parse(`${line}rest`);
    assert.equal(n, line.length, line);
    assert.deepEqual(fields(h), [1, 'proxy', 'unknown', '', 0, '', 0]);
  }
});

test('v1 at an offset inside a larger buffer, and exactly 107 bytes accepted', () => {
  const line = 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n';
  const buf = Buffer.from(`xyz${line}abc`, 'latin1');
  assert.equal(parse(buf, 3, buf.length).n, 3 + line.length);
  assert.equal(parse(buf, 3, 3 + line.length - 1).n, 0);
  const longest = `PROXY UNKNOWN ${'x'.repeat(107 - 16)}\r\n`;
  assert.equal(longest.length, 107);
  assert.equal(parse(longest).n, 107);
  const longestTcp6 = `PROXY TCP6 ${'ffff:'.repeat(7)}ffff ${'ffff:'.repeat(7)}ffff 65535 65535\r\n`;
  assert.equal(longestTcp6.length, 104);
  assert.equal(parse(longestTcp6).n, 104);
});

const V1_REFUSALS: [string, string, RegExp][] = [
  ['not PROXY', 'GET / HTTP/1.1\r\n\r\n', /not a PROXY/],
  ['lower case', 'proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n', /not a PROXY/],
  ['tab after PROXY', 'PROXY\tTCP4 1.2.3.4 5.6.7.8 1 2\r\n', /not a PROXY/],
  ['two spaces after PROXY', 'PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n', /protocol/],
  ['unknown protocol', 'PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n', /protocol/],
  ['UDP4', 'PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n', /protocol/],
  ['lower-case protocol', 'PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n', /protocol/],
  ['UNKNOWN glued to more', 'PROXY UNKNOWNX\r\n', /protocol/],
  ['LF without CR', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n', /CRLF/],
  ['CR inside', 'PROXY TCP4 1.2.3.4\r5.6.7.8 1 2\r\n', /CR inside/],
  ['CR inside UNKNOWN', 'PROXY UNKNOWN a\rb\r\n', /CR inside/],
  ['two spaces', 'PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n', /one space/],
  ['trailing space', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n', /one space|too many/],
  ['tab separator', 'PROXY TCP4 1.2.3.4\t5.6.7.8 1 2\r\n', /address|missing/],
  ['six fields', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n', /too many/],
  ['four fields', 'PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n', /missing/],
  ['no fields', 'PROXY TCP4\r\n', /missing/],
  ['empty', 'PROXY \r\n', /protocol/],
  ['port leading zero', 'PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n', /source port/],
  ['port 00', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 00\r\n', /destination port/],
  ['port 65536', 'PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n', /source port/],
  ['port 6 digits', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 100000\r\n', /destination port/],
  ['port sign', 'PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n', /source port/],
  ['port hex', 'PROXY TCP4 1.2.3.4 5.6.7.8 0x10 2\r\n', /source port/],
  ['port negative', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 -2\r\n', /destination port/],
  ['IPv4 leading zero', 'PROXY TCP4 1.2.3.04 5.6.7.8 1 2\r\n', /source address/],
  ['IPv4 octet 256', 'PROXY TCP4 1.2.3.4 5.6.7.256 1 2\r\n', /destination address/],
  ['IPv4 three octets', 'PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n', /source address/],
  ['IPv4 five octets', 'PROXY TCP4 1.2.3.4.5 5.6.7.8 1 2\r\n', /source address/],
  ['IPv4 as one number', 'PROXY TCP4 16909060 5.6.7.8 1 2\r\n', /source address/],
  ['IPv6 under TCP4', 'PROXY TCP4 ::1 5.6.7.8 1 2\r\n', /source address/],
  ['IPv4 under TCP6', 'PROXY TCP6 ::1 5.6.7.8 1 2\r\n', /destination address/],
  ['IPv6 zone', 'PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n', /source address/],
  ['IPv6 two gaps', 'PROXY TCP6 1::2::3 ::1 1 2\r\n', /source address/],
  ['IPv6 ":::"', 'PROXY TCP6 1:::3 ::1 1 2\r\n', /source address/],
  ['IPv6 nine groups', 'PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 1 2\r\n', /source address/],
  ['IPv6 seven groups', 'PROXY TCP6 1:2:3:4:5:6:7 ::1 1 2\r\n', /source address/],
  ['IPv6 group of five digits', 'PROXY TCP6 12345::1 ::1 1 2\r\n', /source address/],
  ['IPv6 leading colon', 'PROXY TCP6 :1:2:3:4:5:6:7 ::1 1 2\r\n', /source address/],
  ['IPv6 brackets', 'PROXY TCP6 [::1] ::1 1 2\r\n', /source address/],
  ['IPv6 IPv4 tail with a leading zero', 'PROXY TCP6 ::ffff:1.2.3.04 ::1 1 2\r\n', /source address/],
  ['IPv6 IPv4 tail not last', 'PROXY TCP6 ::1.2.3.4:1 ::1 1 2\r\n', /source address/],
  ['non-ASCII', 'PROXY TCP4 1.2.3.4 5.6.7.\u00b9 1 2\r\n', /destination address/],
  ['NUL', 'PROXY TCP4 1.2.3.4\u00005.6.7.8 1 2\r\n', /address|missing/],
  ['too long (no CRLF in 107 bytes)', `PROXY UNKNOWN ${'x'.repeat(100)}\r\n`, /107/],
  ['108 bytes with CRLF', `PROXY UNKNOWN ${'x'.repeat(107 - 15)}\r\n`, /107/],
];

for (const [name, input, reason] of V1_REFUSALS) {
  test(`v1 refused: ${name}`, () => {
    const { n, h } = parse(input);
    assert.equal(n, -1, `${JSON.stringify(input)} gave ${n}`);
    assert.match(h.error ?? '', reason);
  });
}

test('v1 refused as soon as the bytes cannot begin a valid header, not at the CRLF', () => {
  for (const prefix of [
    'G',
    'PROXX',
    'PROXY X',
    'PROXY TCP4 1.2.3.4x',
    'PROXY TCP4 1.2.3.256',
    'PROXY TCP4 1.2.3.4.',
    'PROXY TCP4 01',
    'PROXY TCP6 1.2.3.4 ',
    'PROXY TCP6 1::2::',
    'PROXY TCP6 fe80::1%',
    'PROXY TCP6 12345',
    'PROXY TCP4 1.2.3.4 5.6.7.8 01',
    'PROXY TCP4 1.2.3.4 5.6.7.8 65536',
    'PROXY TCP4 1.2.3.4 5.6.7.8 1 2 ',
    'PROXY TCP4 1.2.3.4  ',
    'PROXY TCP4 1.2.3.4\r',
    'PROXY UNKNOWN\n',
    `PROXY UNKNOWN ${'x'.repeat(93)}`,
  ]) {
    const { n, h } = parse(prefix);
    assert.equal(n, -1, `${JSON.stringify(prefix)} gave ${n}`);
    assert.ok(h.error);
  }
});

test('v1: every prefix of a valid header needs more bytes', () => {
  for (const line of [
    'PROXY TCP4 255.255.255.255 0.0.0.0 65535 0\r\n',
    'PROXY TCP6 2001:db8::1 ::ffff:10.0.0.1 1234 80\r\n',
    'PROXY TCP6 1:2:3:4:5:6:7:8 1:2:3:4:5:6:1.2.3.4 1 2\r\n',
    'PROXY TCP6 :: 1:: 9 10\r\n',
    'PROXY UNKNOWN\r\n',
    'PROXY UNKNOWN x y\r\n',
  ]) {
    assertIncremental(Buffer.from(`${line}tail`, 'latin1'), line.length);
  }
});

// ---- version 2 -------------------------------------------------------------------------

test('v2 PROXY over TCP/IPv4 and TCP/IPv6', () => {
  const a = parse(Buffer.concat([v2(0x21, 0x11, V4_BLOCK), Buffer.from('GET')]));
  assert.equal(a.n, 28);
  assert.deepEqual(fields(a.h), [2, 'proxy', 'tcp4', '10.0.0.1', 12345, '192.168.1.2', 443]);
  const b = parse(v2(0x21, 0x21, V6_BLOCK));
  assert.equal(b.n, 52);
  assert.deepEqual(fields(b.h), [2, 'proxy', 'tcp6', '2001:db8::1', 80, '::ffff:1.2.3.4', 8080]);
});

test('v2 LOCAL: accepted whatever the family, the block discarded, family unknown', () => {
  for (const [fam, block] of [
    [0x00, []],
    [0x11, V4_BLOCK],
    [0x21, V6_BLOCK],
    [0x31, new Array(216).fill(0)],
    [0x12, [1, 2, 3]],
  ] as [number, number[]][]) {
    const { n, h } = parse(v2(0x20, fam, block));
    assert.equal(n, 16 + block.length, `fam ${fam}: ${h.error}`);
    assert.deepEqual(fields(h), [2, 'local', 'unknown', '', 0, '', 0]);
  }
});

test('v2 PROXY with AF_UNSPEC: accepted, family unknown (the connection addresses apply)', () => {
  const { n, h } = parse(v2(0x21, 0x00, [1, 2, 3, 4]));
  assert.equal(n, 20);
  assert.deepEqual(fields(h), [2, 'proxy', 'unknown', '', 0, '', 0]);
});

test('v2 TLVs are skipped; the length may reach 4096', () => {
  const tlvs = [0x01, 0x00, 0x02, 0x68, 0x32, 0x04, 0x00, 0x00, 0x05, 0x00, 0x03, 0x61, 0x62, 0x63];
  const { n, h } = parse(v2(0x21, 0x11, [...V4_BLOCK, ...tlvs]));
  assert.equal(n, 16 + 12 + tlvs.length, String(h.error));
  assert.equal(h.sourceAddress, '10.0.0.1');
  const noop = 4096 - 12 - 3;
  const big = v2(0x21, 0x11, [...V4_BLOCK, 0x04, noop >> 8, noop & 0xff, ...new Array(noop).fill(0)]);
  assert.equal(big.length, 16 + 4096);
  assertIncremental(big, big.length);
});

const V2_REFUSALS: [string, Buffer, RegExp][] = [
  ['bad signature', Buffer.concat([Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x55, 0x0a]), Buffer.alloc(16)]), /not a PROXY/],
  ['version 1', v2(0x11, 0x11, V4_BLOCK), /version/],
  ['version 3', v2(0x31, 0x11, V4_BLOCK), /version/],
  ['version 0', v2(0x01, 0x11, V4_BLOCK), /version/],
  ['command 2', v2(0x22, 0x11, V4_BLOCK), /command/],
  ['command 15', v2(0x2f, 0x11, V4_BLOCK), /command/],
  ['family 4', v2(0x21, 0x41, V4_BLOCK), /family/],
  ['family 15', v2(0x20, 0xf1, V4_BLOCK), /family/],
  ['transport 3', v2(0x21, 0x13, V4_BLOCK), /transport/],
  ['transport 3 under LOCAL', v2(0x20, 0x03, []), /transport/],
  ['AF_UNIX stream', v2(0x21, 0x31, new Array(216).fill(0)), /UNIX/],
  ['AF_UNIX dgram', v2(0x21, 0x32, new Array(216).fill(0)), /UNIX/],
  ['UDP over IPv4', v2(0x21, 0x12, V4_BLOCK), /only TCP/],
  ['UDP over IPv6', v2(0x21, 0x22, V6_BLOCK), /only TCP/],
  ['AF_INET with UNSPEC transport', v2(0x21, 0x10, V4_BLOCK), /only TCP/],
  ['UNSPEC family with STREAM', v2(0x21, 0x01, []), /only TCP/],
  ['length above 4096', v2(0x21, 0x11, V4_BLOCK, 4097), /4096/],
  ['length 65535', v2(0x20, 0x00, [], 65535), /4096/],
  ['IPv4 block too short', v2(0x21, 0x11, V4_BLOCK.slice(0, 11)), /shorter/],
  ['IPv6 block too short', v2(0x21, 0x21, V6_BLOCK.slice(0, 35)), /shorter/],
  ['IPv6 family with an IPv4 block', v2(0x21, 0x21, V4_BLOCK), /shorter/],
  ['truncated TLV header', v2(0x21, 0x11, [...V4_BLOCK, 0x01, 0x00]), /truncated TLV/],
  ['TLV past the end', v2(0x21, 0x11, [...V4_BLOCK, 0x01, 0x00, 0x05, 0x61]), /TLV longer/],
];

for (const [name, input, reason] of V2_REFUSALS) {
  test(`v2 refused: ${name}`, () => {
    const { n, h } = parse(input);
    assert.equal(n, -1, `gave ${n}`);
    assert.match(h.error ?? '', reason);
  });
}

test('v2 refused as soon as the fixed part says so, without waiting for the block', () => {
  for (const [input, at] of [
    [v2(0x11, 0x11, V4_BLOCK), 13],
    [v2(0x23, 0x11, V4_BLOCK), 13],
    [v2(0x21, 0x31, []), 14],
    [v2(0x21, 0x51, []), 14],
    [v2(0x21, 0x11, [], 5000), 16],
    [v2(0x21, 0x11, [], 4), 16],
  ] as [Buffer, number][]) {
    assert.equal(parse(input, 0, at - 1).n, 0);
    assert.equal(parse(input, 0, at).n, -1);
  }
});

test('v2: every prefix of a valid header needs more bytes', () => {
  assertIncremental(Buffer.concat([v2(0x21, 0x11, V4_BLOCK), Buffer.from('x')]), 28);
  assertIncremental(v2(0x21, 0x21, [...V6_BLOCK, 0x04, 0x00, 0x01, 0x00]), 56);
  assertIncremental(v2(0x20, 0x00, []), 16);
});

test('nothing yet: 0', () => {
  assert.equal(parse(Buffer.alloc(0)).n, 0);
  assert.equal(parse(Buffer.from('xPROXY'), 1, 1).n, 0);
});

// ---- encoding --------------------------------------------------------------------------

test('encode: v1 and v2 for IPv4 and IPv6, and the mixed and unknown cases', () => {
  const src4 = { address: '203.0.113.7', port: 56324 };
  const dst4 = { address: '10.0.0.1', port: 443 };
  const src6 = { address: '2001:db8::7', port: 1 };
  const dst6 = { address: '::1', port: 2 };
  assert.equal(encodeProxyHeader('v1', src4, dst4).toString('latin1'), 'PROXY TCP4 203.0.113.7 10.0.0.1 56324 443\r\n');
  assert.equal(encodeProxyHeader('v1', src6, dst6).toString('latin1'), 'PROXY TCP6 2001:db8::7 ::1 1 2\r\n');
  // Mixed families: the IPv4 address sent IPv4-mapped over TCP6, as HAProxy does.
  assert.equal(encodeProxyHeader('v1', src4, dst6).toString('latin1'), 'PROXY TCP6 ::ffff:203.0.113.7 ::1 56324 2\r\n');
  assert.equal(encodeProxyHeader('v1', src6, dst4).toString('latin1'), 'PROXY TCP6 2001:db8::7 ::ffff:10.0.0.1 1 443\r\n');
  // No usable address (a closed socket's undefined address, a UNIX path): UNKNOWN / LOCAL.
  assert.equal(encodeProxyHeader('v1', { address: '', port: 0 }, dst4).toString('latin1'), 'PROXY UNKNOWN\r\n');
  assert.equal(encodeProxyHeader('v1', src4, { address: '/tmp/sock', port: 0 }).toString('latin1'), 'PROXY UNKNOWN\r\n');
  assert.equal(encodeProxyHeader('v1', { address: '1.2.3.4', port: 70000 }, dst4).toString('latin1'), 'PROXY UNKNOWN\r\n');
  // A zone is dropped (it means nothing on the receiver).
  assert.equal(encodeProxyHeader('v1', { address: 'fe80::1%eth0', port: 5 }, dst6).toString('latin1'), 'PROXY TCP6 fe80::1 ::1 5 2\r\n');

  assert.deepEqual(encodeProxyHeader('v2', src4, dst4), v2(0x21, 0x11, [203, 0, 113, 7, 10, 0, 0, 1, 0xdc, 0x04, 0x01, 0xbb]));
  const mixed = parse(encodeProxyHeader('v2', src6, dst4));
  assert.deepEqual(fields(mixed.h), [2, 'proxy', 'tcp6', '2001:db8::7', 1, '::ffff:10.0.0.1', 443]);
  assert.deepEqual(encodeProxyHeader('v2', { address: '', port: 0 }, dst4), v2(0x20, 0x00, []));
});

// ---- properties ------------------------------------------------------------------------

const nodeIpv6 = (a: string): string => new SocketAddress({ address: a, family: 'ipv6' }).address;
const port = fc.integer({ min: 0, max: 65535 });
const address = fc.oneof(fc.ipV4(), fc.ipV6());
const version = fc.constantFrom('v1' as const, 'v2' as const);

test('property: encode then parse gives back the addresses and ports (IPv4-mapped when the families differ)', () => {
  fc.assert(
    fc.property(version, address, port, address, port, (v, sa, sp, da, dp) => {
      const buf = encodeProxyHeader(v, { address: sa, port: sp }, { address: da, port: dp });
      const { n, h } = parse(buf);
      assert.equal(n, buf.length, String(h.error));
      const four = !sa.includes(':') && !da.includes(':');
      const expect = (a: string): string => (four ? a : nodeIpv6(a.includes(':') ? a : `::ffff:${a}`));
      assert.deepEqual(fields(h), [v === 'v1' ? 1 : 2, 'proxy', four ? 'tcp4' : 'tcp6', expect(sa), sp, expect(da), dp]);
    }),
    { numRuns: RUNS },
  );
});

test('property: a v1 line written by hand (any IPv6 spelling) parses to the address Node prints', () => {
  fc.assert(
    fc.property(fc.ipV6(), fc.ipV6(), port, port, (sa, da, sp, dp) => {
      const line = `PROXY TCP6 ${sa} ${da} ${sp} ${dp}\r\n`;
      const { n, h } = parse(line);
      if (line.length > 107) {
        assert.equal(n, -1);
        return;
      }
      assert.equal(n, line.length, `${line}: ${h.error}`);
      assert.deepEqual(fields(h), [1, 'proxy', 'tcp6', nodeIpv6(sa), sp, nodeIpv6(da), dp]);
      assertIncremental(Buffer.from(line, 'latin1'), line.length);
    }),
    { numRuns: RUNS },
  );
});

/** A valid header of either version, with bytes after it. */
const header = fc
  .tuple(version, address, port, address, port, fc.uint8Array({ maxLength: 8 }))
  .map(([v, sa, sp, da, dp, tail]) => Buffer.concat([encodeProxyHeader(v, { address: sa, port: sp }, { address: da, port: dp }), tail]));

/** Mutations of a header: flipped, replaced, inserted and deleted bytes, truncation. */
const mutated = fc
  .tuple(
    header,
    fc.array(fc.tuple(fc.constantFrom('flip', 'set', 'insert', 'delete', 'truncate'), fc.nat(), fc.integer({ min: 0, max: 255 })), {
      minLength: 1,
      maxLength: 4,
    }),
  )
  .map(([buf, edits]) => {
    let b = Buffer.from(buf);
    for (const [kind, at, byte] of edits) {
      const i = b.length === 0 ? 0 : at % b.length;
      if (kind === 'flip' && b.length > 0) b[i] = (b[i] ?? 0) ^ (1 << (byte & 7));
      else if (kind === 'set' && b.length > 0) b[i] = byte;
      else if (kind === 'insert') b = Buffer.concat([b.subarray(0, i), Buffer.from([byte]), b.subarray(i)]);
      else if (kind === 'delete') b = Buffer.concat([b.subarray(0, i), b.subarray(i + 1)]);
      else if (kind === 'truncate') b = b.subarray(0, i);
    }
    return b;
  });

/** parseProxyHeader at every split point agrees with the whole: 0 before, the same after; a refusal never turns into a header. */
function assertSplitsAgree(buf: Buffer): void {
  const whole = parse(buf);
  let refusedAt = -1;
  for (let k = 0; k <= buf.length; k++) {
    const { n, h } = parse(buf, 0, k);
    assert.ok(n === 0 || n === -1 || (n > 0 && n <= k), `${n} at ${k}`);
    assert.equal(n === -1, h.error !== null);
    if (refusedAt !== -1) assert.equal(n, -1, 'a refusal stays a refusal');
    if (n === -1 && refusedAt === -1) refusedAt = k;
    if (whole.n > 0) {
      if (k < whole.n) assert.equal(n, 0, `prefix ${k} of a header of ${whole.n}: ${h.error}`);
      else {
        assert.equal(n, whole.n);
        assert.deepEqual(fields(h), fields(whole.h));
      }
    } else if (whole.n === 0) assert.equal(n, 0);
  }
}

test('property: any split of a valid header gives the same result', () => {
  fc.assert(fc.property(header, assertSplitsAgree), { numRuns: RUNS });
});

test('property: mutated headers never throw, and their splits agree too', () => {
  fc.assert(
    fc.property(mutated, fc.nat({ max: 8 }), (buf, offset) => {
      const shifted = Buffer.concat([Buffer.alloc(offset, 0x50), buf]);
      const h = new ProxyHeader();
      const n = parseProxyHeader(shifted, offset, shifted.length, h);
      assert.ok(n === -1 || n === 0 || (n > offset && n <= shifted.length));
      assertSplitsAgree(buf);
    }),
    { numRuns: RUNS * 4 },
  );
});

test('property: random bytes never throw', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (bytes, v2prefix) => {
      const buf = v2prefix ? Buffer.concat([PROXY_V2_SIGNATURE, bytes]) : Buffer.concat([Buffer.from('PROXY '), bytes]);
      assertSplitsAgree(buf);
    }),
    { numRuns: RUNS * 2 },
  );
});
