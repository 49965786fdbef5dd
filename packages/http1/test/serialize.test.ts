import assert from 'node:assert/strict';
import { test } from 'node:test';
import { appendFields, chunkSizeLine, HOP_BY_HOP, LAST_CHUNK } from '../src/index.js';

test("HOP_BY_HOP: the hop-by-hop fields of RFC 9110 §7.6.1 and those Go's reverse proxy also drops, in lower case", () => {
  const expected = 'connection keep-alive proxy-authenticate proxy-authorization proxy-connection te trailer transfer-encoding upgrade';
  assert.deepEqual([...HOP_BY_HOP].sort(), expected.split(' '));
  assert.ok(!HOP_BY_HOP.has('Connection'), 'lower case only: callers compare lower-cased names');
});

test('appendFields writes a flat name/value list', () => {
  assert.equal(appendFields('x\r\n', ['Via', '1.1 rustlb', 'X-Request-ID', 'abc']), 'x\r\nVia: 1.1 rustlb\r\nX-Request-ID: abc\r\n');
  assert.equal(appendFields('', []), '');
});

test('chunk framing helpers', () => {
  assert.equal(chunkSizeLine(255), 'ff\r\n');
  assert.equal(chunkSizeLine(0), '0\r\n');
  assert.equal(LAST_CHUNK, '0\r\n\r\n');
});
