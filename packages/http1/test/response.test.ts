import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BodyKind, H1Code } from '../src/index.js';
import { h1Status } from '../src/index.js';
import { parseResponse } from './helpers.js';

/** [status line and fields, HEAD request, body kind]. */
const FRAMING: [string, boolean, BodyKind][] = [
  ['HTTP/1.1 200 OK\r\nContent-Length: 5\r\n', false, 'length'],
  ['HTTP/1.1 200 OK\r\nContent-Length: 0\r\n', false, 'length'],
  ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n', false, 'chunked'],
  ['HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n', false, 'chunked'],
  ['HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n', false, 'close'],
  ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n', false, 'close'],
  ['HTTP/1.1 200 OK\r\n', false, 'close'],
  ['HTTP/1.0 200 OK\r\n', false, 'close'],
  ['HTTP/1.1 200 OK\r\nContent-Length: 5\r\n', true, 'none'],
  ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n', true, 'none'],
  ['HTTP/1.1 200 OK\r\n', true, 'none'],
  ['HTTP/1.1 100 Continue\r\n', false, 'none'],
  ['HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n', false, 'none'],
  ['HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n', false, 'none'],
  ['HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n', false, 'none'],
  ['HTTP/1.1 204 No Content\r\n', false, 'none'],
  ['HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n', false, 'none'],
  ['HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n', false, 'none'],
  ['HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n', false, 'length'],
  ['HTTP/1.1 205 Reset Content\r\nContent-Length: 0\r\n', false, 'length'],
];

test('response framing (RFC 9112 §6.3)', () => {
  const failures: string[] = [];
  for (const [head, headRequest, kind] of FRAMING) {
    const text = `${head}\r\n`;
    const { n, head: h } = parseResponse(text, headRequest);
    if (n !== text.length || h.bodyKind !== kind) failures.push(`${JSON.stringify(head)} HEAD=${headRequest}: ${n} ${h.bodyKind} ${h.error}`);
  }
  assert.deepEqual(failures, []);
});

test('status line: version, status, reason', () => {
  const r = parseResponse('HTTP/1.0 404 Not  Found \r\nX: y\r\n\r\n');
  assert.ok(r.n > 0);
  assert.equal(r.head.versionMinor, 0);
  assert.equal(r.head.status, 404);
  assert.equal(r.head.reason, 'Not  Found');
  assert.equal(r.head.close, true);
  const noReason = parseResponse('HTTP/1.1 200\r\n\r\n');
  assert.deepEqual([noReason.n, noReason.head.status, noReason.head.reason], [16, 200, '']);
  const emptyReason = parseResponse('HTTP/1.1 200 \r\n\r\n');
  assert.deepEqual([emptyReason.n, emptyReason.head.reason], [17, '']);
  assert.equal(parseResponse('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n').head.close, true);
  assert.equal(parseResponse('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n').head.close, false);
  const k = parseResponse('HTTP/1.1 200 OK\r\nConnection: x-a, keep-alive\r\nContent-Length: 2\r\n\r\n').head;
  assert.deepEqual([k.connectionTokens, k.contentLength, k.headBytes], [['x-a'], 2, 67]);
});

const REFUSED: [string, string, H1Code][] = [
  ['HTTP/1.2', 'HTTP/1.2 200 OK\r\n\r\n', 'H1_BAD_STATUS_LINE'],
  ['HTTP/2.0', 'HTTP/2.0 200 OK\r\n\r\n', 'H1_BAD_STATUS_LINE'],
  ['lower-case', 'http/1.1 200 OK\r\n\r\n', 'H1_BAD_STATUS_LINE'],
  ['two-digit status', 'HTTP/1.1 20 OK\r\n\r\n', 'H1_BAD_STATUS_LINE'],
  ['four-digit status', 'HTTP/1.1 2000 OK\r\n\r\n', 'H1_BAD_STATUS_LINE'],
  ['status 099', 'HTTP/1.1 099 OK\r\n\r\n', 'H1_BAD_STATUS_LINE'],
  ['two spaces', 'HTTP/1.1  200 OK\r\n\r\n', 'H1_BAD_STATUS_LINE'],
  ['garbage', 'SSH-2.0-OpenSSH\r\n\r\n', 'H1_BAD_STATUS_LINE'],
  ['NUL in the reason', 'HTTP/1.1 200 O\x00K\r\n\r\n', 'H1_BAD_STATUS_LINE'],
  ['bare LF status line', 'HTTP/1.1 200 OK\n\r\n', 'H1_BAD_LINE_ENDING'],
  ['bare LF after a field', 'HTTP/1.1 200 OK\r\nX: y\n\r\n', 'H1_BAD_LINE_ENDING'],
  ['bare CR', 'HTTP/1.1 200 OK\rX: y\r\n\r\n', 'H1_BAD_LINE_ENDING'],
  ['obs-fold', 'HTTP/1.1 200 OK\r\nX: y\r\n z\r\n\r\n', 'H1_OBS_FOLD'],
  ['space before colon', 'HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\n', 'H1_BAD_HEADER_NAME'],
  ['NUL in a value', 'HTTP/1.1 200 OK\r\nX: a\x00\r\n\r\n', 'H1_BAD_HEADER_VALUE'],
  ['CL and TE', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n', 'H1_CL_AND_TE'],
  ['CL and TE on a 304', 'HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n', 'H1_CL_AND_TE'],
  ['CL repeated', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n', 'H1_BAD_CONTENT_LENGTH'],
  ['CL list', 'HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n', 'H1_BAD_CONTENT_LENGTH'],
  ['CL malformed', 'HTTP/1.1 200 OK\r\nContent-Length: 5a\r\n\r\n', 'H1_BAD_CONTENT_LENGTH'],
  ['CL malformed on a HEAD answer', 'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n', 'H1_BAD_CONTENT_LENGTH'],
  ['TE chunked twice', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n', 'H1_BAD_TRANSFER_ENCODING'],
  ['TE empty', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: \r\n\r\n', 'H1_BAD_TRANSFER_ENCODING'],
  ['TE in HTTP/1.0', 'HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', 'H1_TE_IN_HTTP10'],
];

test('response refusals (all a 502 for the proxy)', () => {
  const failures: string[] = [];
  for (const [what, text, code] of REFUSED) {
    const { n, head } = parseResponse(text);
    if (n !== -1 || head.error !== code || !head.errorDetail) failures.push(`${what}: ${n} ${head.error}`);
    // Byte by byte: a prefix is never refused differently, nor accepted.
    let inc = 0;
    let incCode: string | null = null;
    for (let end = 1; end <= text.length && inc === 0; end++) {
      const r = parseResponse(text.slice(0, end));
      inc = r.n;
      incCode = r.head.error;
    }
    if (inc !== -1 || incCode !== code) failures.push(`${what} (incremental): ${inc} ${incCode}`);
  }
  assert.deepEqual(failures, []);
  assert.equal(h1Status('H1_BAD_STATUS_LINE'), 502);
});

test('incomplete responses wait; a prefix that cannot be a status line is refused at once', () => {
  const text = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n';
  for (let end = 0; end < text.length; end++) assert.equal(parseResponse(text.slice(0, end)).n, 0, `end ${end}`);
  assert.equal(parseResponse('HTTP/1.1 2x').n, -1);
  assert.equal(parseResponse('X').n, -1);
  const big = parseResponse(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(200)}`, false, { maxHeadBytes: 100, maxHeaders: 10 });
  assert.deepEqual([big.n, big.head.error], [-1, 'H1_HEAD_TOO_LARGE']);
});
