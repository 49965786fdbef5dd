import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChunkedDecoder, type H1Code } from '../src/index.js';
import { CHUNK_LIMITS, Collect, decodePieces } from './helpers.js';

const GOOD: [string, string, string][] = [
  ['one chunk', '5\r\nhello\r\n0\r\n\r\n', 'hello'],
  ['two chunks', '5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n', 'hello world'],
  ['empty body', '0\r\n\r\n', ''],
  ['upper-case hex', 'A\r\n0123456789\r\n0\r\n\r\n', '0123456789'],
  ['leading zeros', '0005\r\nhello\r\n000\r\n\r\n', 'hello'],
  ['extension', '5;ext=value\r\nhello\r\n0;last\r\n\r\n', 'hello'],
  ['extensions with BWS and quoted strings', '5 ; a = "q \\" x" ;b\t;c=d\r\nhello\r\n0\r\n\r\n', 'hello'],
  ['trailers', '5\r\nhello\r\n0\r\nX-Checksum: abc\r\nX-Two:\r\n\r\n', 'hello'],
  ['data with CRLF inside', '4\r\n\r\n\r\n\r\n0\r\n\r\n', '\r\n\r\n'],
];

test('valid bodies decode to the same data over every split into two and three pieces', () => {
  for (const [what, text, data] of GOOD) {
    const body = Buffer.from(`${text}NEXT`, 'latin1');
    for (let a = 0; a <= body.length; a++) {
      for (let b = a; b <= body.length; b += a % 3 === 0 ? 1 : 5) {
        const r = decodePieces(body, [a, b]);
        assert.deepEqual([r.data, r.done, r.end, r.error, r.empty], [data, true, text.length, null, 0], `${what} split at ${a},${b}`);
      }
    }
  }
});

const BAD: [string, string, H1Code][] = [
  ['not hex', 'zz\r\nhello\r\n0\r\n\r\n', 'H1_BAD_CHUNK_SIZE'],
  ['empty size', '\r\nhello\r\n0\r\n\r\n', 'H1_BAD_CHUNK_SIZE'],
  ['overflow', 'fffffffffffffffff1\r\nx\r\n0\r\n\r\n', 'H1_BAD_CHUNK_SIZE'],
  ['just past 2^53-1', `${(2 ** 53).toString(16)}\r\nx`, 'H1_BAD_CHUNK_SIZE'],
  ['0x prefix', '0x5\r\nhello\r\n0\r\n\r\n', 'H1_BAD_CHUNK_SIZE'],
  ['plus sign', '+5\r\nhello\r\n0\r\n\r\n', 'H1_BAD_CHUNK_SIZE'],
  ['minus sign', '-1\r\nhello\r\n0\r\n\r\n', 'H1_BAD_CHUNK_SIZE'],
  ['leading space', ' 5\r\nhello\r\n0\r\n\r\n', 'H1_BAD_CHUNK_SIZE'],
  ['trailing space', '5 \r\nhello\r\n0\r\n\r\n', 'H1_BAD_CHUNK_SIZE'],
  ['underscore', '1_0\r\nhello world!!!!!\r\n0\r\n\r\n', 'H1_BAD_CHUNK_SIZE'],
  ['bare LF after the size', '5\nhello\r\n0\r\n\r\n', 'H1_BAD_CHUNK_SIZE'],
  ['bare CR after the size', '5\rhello\r\n0\r\n\r\n', 'H1_BAD_CHUNK_SIZE'],
  ['bare semicolon', '5;\r\nhello\r\n0\r\n\r\n', 'H1_BAD_CHUNK_EXTENSION'],
  ['invalid extension name', '5;bad[=x\r\nhello\r\n0\r\n\r\n', 'H1_BAD_CHUNK_EXTENSION'],
  ['NUL in an extension', '5;\x00ext\r\nhello\r\n0\r\n\r\n', 'H1_BAD_CHUNK_EXTENSION'],
  ['LF after an extension', '5;a\nhello\r\n0\r\n\r\n', 'H1_BAD_CHUNK_EXTENSION'],
  ['empty extension value', '5;a=\r\nhello\r\n0\r\n\r\n', 'H1_BAD_CHUNK_EXTENSION'],
  ['unterminated quoted value', '5;a="x\r\nhello\r\n0\r\n\r\n', 'H1_BAD_CHUNK_EXTENSION'],
  ['whitespace after an extension before CRLF', '5;a \r\nhello\r\n0\r\n\r\n', 'H1_BAD_CHUNK_EXTENSION'],
  ['data without CRLF', '3\r\nabcX\r\n0\r\n\r\n', 'H1_BAD_CHUNK_DATA_END'],
  ['data too long', '5\r\nhello!!\r\n0\r\n\r\n', 'H1_BAD_CHUNK_DATA_END'],
  ['data ended by LF', '5\r\nhello\n0\r\n\r\n', 'H1_BAD_CHUNK_DATA_END'],
  ['missing CRLF before the next size', '5\r\nhello0\r\n\r\n', 'H1_BAD_CHUNK_DATA_END'],
  ['LF as the final line', '5\r\nhello\r\n0\r\n\n', 'H1_BAD_TRAILER'],
  ['bare CR as the final line', '0\r\n\rX', 'H1_BAD_TRAILER'],
  ['obs-fold in trailers', '0\r\nX: a\r\n b\r\n\r\n', 'H1_BAD_TRAILER'],
  ['trailer without a colon', '0\r\nX\r\n\r\n', 'H1_BAD_TRAILER'],
  ['space before a trailer colon', '0\r\nX : a\r\n\r\n', 'H1_BAD_TRAILER'],
  ['NUL in a trailer value', '0\r\nX: a\x00\r\n\r\n', 'H1_BAD_TRAILER'],
  ['bare LF in a trailer', '0\r\nX: a\n\r\n', 'H1_BAD_TRAILER'],
  ['size line too long', `5;${'a'.repeat(5000)}\r\nhello\r\n0\r\n\r\n`, 'H1_CHUNK_LIMIT'],
  ['trailers too long', `0\r\nX: ${'a'.repeat(9000)}\r\n\r\n`, 'H1_CHUNK_LIMIT'],
];

test('every malformation is refused with its code, over every split', () => {
  for (const [what, text, code] of BAD) {
    const body = Buffer.from(text, 'latin1');
    const step = body.length > 100 ? 97 : 1;
    for (let a = 0; a <= body.length; a += step) {
      const r = decodePieces(body, [a]);
      assert.deepEqual([r.error, r.done], [code, false], `${what} split at ${a}`);
    }
  }
});

test('after an error or the end, feed returns start and reports nothing more', () => {
  const d = new ChunkedDecoder(CHUNK_LIMITS);
  const sink = new Collect();
  const body = Buffer.from('0\r\n\r\nGET', 'latin1');
  assert.equal(d.feed(body, 0, body.length, sink), 5);
  assert.equal(d.done, true);
  assert.equal(d.feed(body, 5, body.length, sink), 5);
  const bad = Buffer.from('x\r\n', 'latin1');
  d.reset();
  assert.equal(d.done, false);
  assert.equal(d.feed(bad, 0, bad.length, sink), -1);
  assert.equal(d.error, 'H1_BAD_CHUNK_SIZE');
  assert.equal(d.feed(bad, 1, bad.length, sink), 1);
  d.reset();
  const good = Buffer.from('3\r\nabc\r\n0\r\n\r\n', 'latin1');
  assert.equal(d.feed(good, 0, good.length, sink), good.length);
  assert.equal(sink.data, 'abc');
});

test('limits are exact: a size line or a trailer section at the limit passes', () => {
  const line = `5;${'a'.repeat(8)}`;
  const body = Buffer.from(`${line}\r\nhello\r\n0\r\nX: 12\r\n\r\n`, 'latin1');
  assert.equal(decodePieces(body, [], { maxLineBytes: line.length, maxTrailerBytes: 7 }).done, true);
  assert.equal(decodePieces(body, [], { maxLineBytes: line.length - 1, maxTrailerBytes: 7 }).error, 'H1_CHUNK_LIMIT');
  assert.equal(decodePieces(body, [], { maxLineBytes: line.length, maxTrailerBytes: 6 }).error, 'H1_CHUNK_LIMIT');
  assert.equal(decodePieces(Buffer.from('0\r\n\r\n'), [], { maxLineBytes: 1, maxTrailerBytes: 0 }).done, true);
  const max = Buffer.from(`${(2 ** 53 - 1).toString(16)}\r\n`, 'latin1');
  assert.equal(new ChunkedDecoder(CHUNK_LIMITS).feed(max, 0, max.length, new Collect()), max.length);
});

test('large chunks are passed on as they arrive, never buffered', () => {
  const d = new ChunkedDecoder(CHUNK_LIMITS);
  const pieces: number[] = [];
  const sink = { chunkData: (_b: Buffer, s: number, e: number) => void pieces.push(e - s) };
  const head = Buffer.from('100000\r\n', 'latin1');
  assert.equal(d.feed(head, 0, head.length, sink), head.length);
  const data = Buffer.alloc(0x100000, 0x61);
  for (let off = 0; off < data.length; off += 65536) assert.equal(d.feed(data, off, off + 65536, sink), off + 65536);
  assert.equal(pieces.length, 16);
  const tail = Buffer.from('\r\n0\r\n\r\n', 'latin1');
  assert.equal(d.feed(tail, 0, tail.length, sink), tail.length);
  assert.equal(d.done, true);
});
