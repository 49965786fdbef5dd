import assert from 'node:assert/strict';
import { test } from 'node:test';
import { appendFields, appendKeptFields, chunkSizeLine, HOP_BY_HOP, LAST_CHUNK } from '../src/index.js';
import { parseRequest } from './helpers.js';

test('appendKeptFields drops hop-by-hop fields, those Connection names, and the drop set; keeps order and spelling', () => {
  const { head } = parseRequest(
    'GET / HTTP/1.1\r\nHost: a.test\r\nConnection: keep-alive, X-Secret\r\nKeep-Alive: 5\r\nX-Secret: s\r\nTE: trailers\r\nX-Forwarded-For: 1.2.3.4\r\nContent_Length: 9\r\nAccept: */*\r\nUpgrade: h2c\r\nProxy-Connection: x\r\n\r\n',
  );
  const out = appendKeptFields(
    'GET / HTTP/1.1\r\n',
    head.names,
    head.lower,
    head.values,
    head.connectionTokens,
    new Set(['x-forwarded-for', 'content_length']),
  );
  assert.equal(out, 'GET / HTTP/1.1\r\nHost: a.test\r\nAccept: */*\r\n');
  assert.equal(appendKeptFields('', ['A'], ['a'], ['1'], null, new Set()), 'A: 1\r\n');
  for (const name of ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']) assert.ok(HOP_BY_HOP.has(name));
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
