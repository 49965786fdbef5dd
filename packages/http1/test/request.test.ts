import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type H1Code, h1Status, parseRequestHead, RequestHead } from '../src/index.js';
import { LIMITS, parseRequest, parseRequestIncrementally } from './helpers.js';

const H = 'Host: s.test\r\n';

/** Every refusal, by code: [what, head, code]. The status is the code's (H1_ERRORS). */
const REFUSED: [string, string, H1Code][] = [
  ['two spaces after the method', `GET  /path HTTP/1.1\r\n${H}\r\n`, 'H1_BAD_REQUEST_LINE'],
  ['two spaces after the target', `GET /path  HTTP/1.1\r\n${H}\r\n`, 'H1_BAD_VERSION'],
  ['a leading space', ` GET / HTTP/1.1\r\n${H}\r\n`, 'H1_BAD_REQUEST_LINE'],
  ['no target', `GET HTTP/1.1\r\n${H}\r\n`, 'H1_BAD_TARGET'],
  ['method alone', 'GET\r\n\r\n', 'H1_BAD_REQUEST_LINE'],
  ['trailing space after the version', `GET / HTTP/1.1 \r\n${H}\r\n`, 'H1_BAD_VERSION'],
  ['too many empty lines first', `\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n${H}\r\n`, 'H1_BAD_REQUEST_LINE'],
  ['a tab after the method', `GET\t/ HTTP/1.1\r\n${H}\r\n`, 'H1_BAD_METHOD'],
  ['a method with a non-token byte', `GE(T / HTTP/1.1\r\n${H}\r\n`, 'H1_BAD_METHOD'],
  ['NUL in the target', `GET /\x00x HTTP/1.1\r\n${H}\r\n`, 'H1_BAD_TARGET'],
  ['non-ASCII in the target', `GET /caf\xe9 HTTP/1.1\r\n${H}\r\n`, 'H1_BAD_TARGET'],
  ['DEL in the target', `GET /a\x7f HTTP/1.1\r\n${H}\r\n`, 'H1_BAD_TARGET'],
  ['a space inside the target', `GET /pa th HTTP/1.1\r\n${H}\r\n`, 'H1_BAD_VERSION'],
  ['a target of no known form', `GET path HTTP/1.1\r\n${H}\r\n`, 'H1_BAD_TARGET'],
  ['an authority-form target with GET', `GET s.test:80 HTTP/1.1\r\n${H}\r\n`, 'H1_BAD_TARGET'],
  ['ftp scheme', `GET ftp://s.test/ HTTP/1.1\r\n${H}\r\n`, 'H1_BAD_TARGET'],
  ['absolute-form with userinfo', `GET http://u@s.test/ HTTP/1.1\r\n${H}\r\n`, 'H1_BAD_TARGET'],
  ['absolute-form with an empty authority', 'GET http:///x HTTP/1.0\r\n\r\n', 'H1_BAD_TARGET'],
  ['a fragment in an origin-form target', `GET /path#frag HTTP/1.1\r\n${H}\r\n`, 'H1_FRAGMENT'],
  ['a fragment in an absolute-form target', 'GET http://s.test/abs#frag HTTP/1.1\r\nHost: s.test\r\n\r\n', 'H1_FRAGMENT'],
  ['asterisk-form with GET', `GET * HTTP/1.1\r\n${H}\r\n`, 'H1_ASTERISK_NOT_OPTIONS'],
  ['the h2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'H1_BAD_METHOD'],
  ['an unknown method', `FOOBAR / HTTP/1.1\r\n${H}\r\n`, 'H1_BAD_METHOD'],
  ['a lower-case method', `get / HTTP/1.1\r\n${H}\r\n`, 'H1_BAD_METHOD'],
  ['asterisk-form with an unknown method', `FOO * HTTP/1.1\r\n${H}\r\n`, 'H1_BAD_METHOD'],
  ['HTTP/1.a', `GET /v HTTP/1.a\r\n${H}\r\n`, 'H1_BAD_VERSION'],
  ['HTTP/01.1', `GET /v HTTP/01.1\r\n${H}\r\n`, 'H1_BAD_VERSION'],
  ['HTTP/1', `GET /v HTTP/1\r\n${H}\r\n`, 'H1_BAD_VERSION'],
  ['http/1.1', `GET /v http/1.1\r\n${H}\r\n`, 'H1_BAD_VERSION'],
  ['HTTP/ 1.1', `GET /v HTTP/ 1.1\r\n${H}\r\n`, 'H1_BAD_VERSION'],
  ['a long version', `GET /v HTTP/1.1111111111111111111\r\n${H}\r\n`, 'H1_BAD_VERSION'],
  ['HTTP/1.2', `GET /v HTTP/1.2\r\n${H}\r\n`, 'H1_VERSION_NOT_SUPPORTED'],
  ['HTTP/2.0', `GET /v HTTP/2.0\r\n${H}\r\n`, 'H1_VERSION_NOT_SUPPORTED'],
  ['HTTP/0.9', `GET /v HTTP/0.9\r\n${H}\r\n`, 'H1_VERSION_NOT_SUPPORTED'],
  ['HTTP/9.9', `GET /v HTTP/9.9\r\n${H}\r\n`, 'H1_VERSION_NOT_SUPPORTED'],
  ['no version (HTTP/0.9)', 'GET /v\r\n', 'H1_BAD_REQUEST_LINE'],
  ['CONNECT', 'CONNECT s.test:443 HTTP/1.1\r\nHost: s.test:443\r\n\r\n', 'H1_CONNECT'],
  ['bare LF line endings', `GET /lf HTTP/1.1\n${H.replace('\r\n', '\n')}\n`, 'H1_BAD_LINE_ENDING'],
  ['bare LF after the request line', `GET / HTTP/1.1\n${H}\r\n`, 'H1_BAD_LINE_ENDING'],
  ['bare LF after a field', `GET / HTTP/1.1\r\n${H}X: 1\n\r\n`, 'H1_BAD_LINE_ENDING'],
  ['bare LF as the blank line', `GET / HTTP/1.1\r\n${H}\n`, 'H1_BAD_LINE_ENDING'],
  ['bare CR ending the request line', `GET / HTTP/1.1\r${H}\r\n`, 'H1_BAD_LINE_ENDING'],
  ['bare CR in a value', `GET /cr HTTP/1.1\r\n${H}X-A: 1\r2\r\n\r\n`, 'H1_BAD_LINE_ENDING'],
  ['bare CR as the blank line', `GET / HTTP/1.1\r\n${H}\rX`, 'H1_BAD_LINE_ENDING'],
  ['bare CR in the leading empty lines', `\rGET / HTTP/1.1\r\n${H}\r\n`, 'H1_BAD_LINE_ENDING'],
  ['bare LF in the leading empty lines', `\nGET / HTTP/1.1\r\n${H}\r\n`, 'H1_BAD_LINE_ENDING'],
  ['whitespace before the colon', `GET /ws HTTP/1.1\r\n${H}X-Space : 1\r\n\r\n`, 'H1_BAD_HEADER_NAME'],
  ['Host with whitespace before the colon', 'GET /ws2 HTTP/1.1\r\nHost : s.test\r\n\r\n', 'H1_BAD_HEADER_NAME'],
  ['a space in a name', `GET /sp HTTP/1.1\r\n${H}X A: 1\r\n\r\n`, 'H1_BAD_HEADER_NAME'],
  ['a tab in a name', `GET / HTTP/1.1\r\n${H}Content\tLength: 1\r\n\r\n`, 'H1_BAD_HEADER_NAME'],
  ['an empty name', `GET / HTTP/1.1\r\n${H}: x\r\n\r\n`, 'H1_BAD_HEADER_NAME'],
  ['a line without a colon', `GET / HTTP/1.1\r\n${H}NoColon\r\n\r\n`, 'H1_BAD_HEADER_NAME'],
  ['a non-token byte in a name', `GET / HTTP/1.1\r\n${H}Bad[Name: v\r\n\r\n`, 'H1_BAD_HEADER_NAME'],
  ['non-ASCII in a name', `GET / HTTP/1.1\r\n${H}X-T\xebst: v\r\n\r\n`, 'H1_BAD_HEADER_NAME'],
  ['whitespace line before the first field', `GET /wsline HTTP/1.1\r\n \r\n${H}\r\n`, 'H1_BAD_HEADER_NAME'],
  ['NUL in a value', `GET /nul HTTP/1.1\r\n${H}X-A: 1\x002\r\n\r\n`, 'H1_BAD_HEADER_VALUE'],
  ['DEL in a value', `GET / HTTP/1.1\r\n${H}X-A: 1\x7f\r\n\r\n`, 'H1_BAD_HEADER_VALUE'],
  ['BEL in a value', `GET / HTTP/1.1\r\n${H}X-A: a\x07\r\n\r\n`, 'H1_BAD_HEADER_VALUE'],
  ['VT before a Transfer-Encoding', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: \x0bchunked\r\n\r\n`, 'H1_BAD_HEADER_VALUE'],
  ['obs-fold', `GET /fold HTTP/1.1\r\n${H}X-Folded: a\r\n  b\r\n\r\n`, 'H1_OBS_FOLD'],
  ['obs-fold with a tab', `GET /fold HTTP/1.1\r\n${H}X-Folded: a\r\n\tb\r\n\r\n`, 'H1_OBS_FOLD'],
  ['Content-Length with Transfer-Encoding', `POST / HTTP/1.1\r\n${H}Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n`, 'H1_CL_AND_TE'],
  ['Transfer-Encoding with Content-Length', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n`, 'H1_CL_AND_TE'],
  ['two different Content-Lengths', `POST / HTTP/1.1\r\n${H}Content-Length: 3\r\nContent-Length: 4\r\n\r\n`, 'H1_BAD_CONTENT_LENGTH'],
  ['two identical Content-Lengths', `POST / HTTP/1.1\r\n${H}Content-Length: 3\r\nContent-Length: 3\r\n\r\n`, 'H1_BAD_CONTENT_LENGTH'],
  ['a Content-Length list', `POST / HTTP/1.1\r\n${H}Content-Length: 3, 4\r\n\r\n`, 'H1_BAD_CONTENT_LENGTH'],
  ['an identical Content-Length list', `POST / HTTP/1.1\r\n${H}Content-Length: 5, 5\r\n\r\n`, 'H1_BAD_CONTENT_LENGTH'],
  ['Content-Length +3', `POST / HTTP/1.1\r\n${H}Content-Length: +3\r\n\r\n`, 'H1_BAD_CONTENT_LENGTH'],
  ['Content-Length -1', `POST / HTTP/1.1\r\n${H}Content-Length: -1\r\n\r\n`, 'H1_BAD_CONTENT_LENGTH'],
  ['Content-Length 0x5', `POST / HTTP/1.1\r\n${H}Content-Length: 0x5\r\n\r\n`, 'H1_BAD_CONTENT_LENGTH'],
  ['Content-Length 1 0', `POST / HTTP/1.1\r\n${H}Content-Length: 1 0\r\n\r\n`, 'H1_BAD_CONTENT_LENGTH'],
  ['empty Content-Length', `POST / HTTP/1.1\r\n${H}Content-Length: \r\n\r\n`, 'H1_BAD_CONTENT_LENGTH'],
  ['Content-Length past 2^53-1', `POST / HTTP/1.1\r\n${H}Content-Length: 9007199254740992\r\n\r\n`, 'H1_BAD_CONTENT_LENGTH'],
  ['Content-Length of 20 digits', `POST / HTTP/1.1\r\n${H}Content-Length: 99999999999999999999\r\n\r\n`, 'H1_BAD_CONTENT_LENGTH'],
  ['Transfer-Encoding not ending in chunked', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, gzip\r\n\r\n`, 'H1_BAD_TRANSFER_ENCODING'],
  ['Transfer-Encoding gzip', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip\r\n\r\n`, 'H1_BAD_TRANSFER_ENCODING'],
  ['Transfer-Encoding chunked twice', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, chunked\r\n\r\n`, 'H1_BAD_TRANSFER_ENCODING'],
  [
    'Transfer-Encoding chunked in two fields',
    `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n`,
    'H1_BAD_TRANSFER_ENCODING',
  ],
  [
    'Transfer-Encoding chunked then identity',
    `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n`,
    'H1_BAD_TRANSFER_ENCODING',
  ],
  ['empty Transfer-Encoding', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: \r\n\r\n`, 'H1_BAD_TRANSFER_ENCODING'],
  ['Transfer-Encoding with a leading comma', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: , chunked\r\n\r\n`, 'H1_BAD_TRANSFER_ENCODING'],
  ['Transfer-Encoding with a trailing comma', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked,\r\n\r\n`, 'H1_BAD_TRANSFER_ENCODING'],
  ['Transfer-Encoding chunked with parameters', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked;a=b\r\n\r\n`, 'H1_BAD_TRANSFER_ENCODING'],
  ['Transfer-Encoding xchunked', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: xchunked\r\n\r\n`, 'H1_BAD_TRANSFER_ENCODING'],
  ['Transfer-Encoding of two words', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip chunked\r\n\r\n`, 'H1_BAD_TRANSFER_ENCODING'],
  ['Transfer-Encoding in HTTP/1.0', `POST /te10 HTTP/1.0\r\n${H}Transfer-Encoding: chunked\r\n\r\n`, 'H1_TE_IN_HTTP10'],
  ['missing Host in HTTP/1.1', 'GET / HTTP/1.1\r\nX-A: 1\r\n\r\n', 'H1_MISSING_HOST'],
  ['two different Host fields', 'GET / HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\n\r\n', 'H1_MULTIPLE_HOST'],
  ['two identical Host fields', 'GET / HTTP/1.1\r\nHost: a.test\r\nhost: a.test\r\n\r\n', 'H1_MULTIPLE_HOST'],
  ['two Host fields in HTTP/1.0', 'GET / HTTP/1.0\r\nHost: a.test\r\nHost: a.test\r\n\r\n', 'H1_MULTIPLE_HOST'],
  ['an empty Host', 'GET / HTTP/1.1\r\nHost: \r\n\r\n', 'H1_BAD_HOST'],
  ['Host with userinfo', 'GET / HTTP/1.1\r\nHost: user@s.test\r\n\r\n', 'H1_BAD_HOST'],
  ['Host with a path', 'GET / HTTP/1.1\r\nHost: s.test/x\r\n\r\n', 'H1_BAD_HOST'],
  ['Host as a list', 'GET / HTTP/1.1\r\nHost: a.test, b.test\r\n\r\n', 'H1_BAD_HOST'],
  ['Host with a long port', 'GET / HTTP/1.1\r\nHost: a.test:123456\r\n\r\n', 'H1_BAD_HOST'],
  ['Host over 255 bytes', `GET / HTTP/1.1\r\nHost: ${'a'.repeat(256)}\r\n\r\n`, 'H1_BAD_HOST'],
  ['an invalid Host in HTTP/1.0', 'GET / HTTP/1.0\r\nHost: a b\r\n\r\n', 'H1_BAD_HOST'],
  ['absolute-form with a different Host', 'GET http://other.test/abs HTTP/1.1\r\nHost: s.test\r\n\r\n', 'H1_HOST_MISMATCH'],
  ['absolute-form with a different port', 'GET http://s.test:81/ HTTP/1.1\r\nHost: s.test\r\n\r\n', 'H1_HOST_MISMATCH'],
  ['absolute-form without Host in HTTP/1.1', 'GET http://s.test/ HTTP/1.1\r\n\r\n', 'H1_MISSING_HOST'],
];

test('every refusal has its code, its status and a detail', () => {
  const failures: string[] = [];
  for (const [what, text, code] of REFUSED) {
    const { n, head } = parseRequest(text);
    if (n !== -1 || head.error !== code || !head.errorDetail) failures.push(`${what}: ${n} ${head.error} ${head.errorDetail}`);
    // Fed byte by byte, the same refusal (never an acceptance of a prefix).
    const inc = parseRequestIncrementally(text);
    if (inc.n !== -1 || inc.head.error !== code) failures.push(`${what} (incremental): ${inc.n} ${inc.head.error}`);
  }
  assert.deepEqual(failures, []);
});

test('statuses: 400 for malformed, 431 for too large, 501 for CONNECT, 505 for another version', () => {
  assert.equal(h1Status('H1_BAD_REQUEST_LINE'), 400);
  assert.equal(h1Status('H1_BAD_VERSION'), 400);
  assert.equal(h1Status('H1_VERSION_NOT_SUPPORTED'), 505);
  assert.equal(h1Status('H1_CONNECT'), 501);
  assert.equal(h1Status('H1_HEAD_TOO_LARGE'), 431);
  assert.equal(h1Status('H1_TOO_MANY_HEADERS'), 431);
  for (const [, , code] of REFUSED) assert.ok([400, 501, 505].includes(h1Status(code)), code);
});

test('a valid request: method, target, path, fields as received, trimmed values, lengths', () => {
  const text = `POST /a/b?c=d HTTP/1.1\r\nHost: S.test:8080\r\nX-Two:   spaced value \t\r\nContent-Length: 5\r\nExpect: 100-Continue\r\nX-Empty:\r\n\r\nhello`;
  const { n, head } = parseRequest(text);
  assert.equal(n, text.length - 5);
  assert.equal(head.headBytes, n);
  assert.equal(head.method, 'POST');
  assert.equal(head.target, '/a/b?c=d');
  assert.equal(head.path, '/a/b?c=d');
  assert.equal(head.versionMinor, 1);
  assert.equal(head.host, 'S.test:8080');
  assert.deepEqual(head.names, ['Host', 'X-Two', 'Content-Length', 'Expect', 'X-Empty']);
  assert.deepEqual(head.lower, ['host', 'x-two', 'content-length', 'expect', 'x-empty']);
  assert.deepEqual(head.values, ['S.test:8080', 'spaced value', '5', '100-Continue', '']);
  assert.equal(head.bodyKind, 'length');
  assert.equal(head.contentLength, 5);
  assert.equal(head.expectContinue, true);
  assert.equal(head.close, false);
  assert.equal(head.get('x-two'), 'spaced value');
  assert.equal(head.get('nope'), undefined);
  assert.equal(head.error, null);
});

test('accepted edge cases', () => {
  const ok = (text: string) => {
    const r = parseRequest(text);
    assert.equal(r.n, text.length, `${JSON.stringify(text)}: ${r.head.error} ${r.head.errorDetail}`);
    return r.head;
  };
  assert.equal(ok(`\r\n\r\nGET / HTTP/1.1\r\n${H}\r\n`).method, 'GET');
  assert.equal(ok(`M-SEARCH / HTTP/1.1\r\n${H}\r\n`).method, 'M-SEARCH');
  assert.equal(ok(`PROPFIND / HTTP/1.1\r\n${H}\r\n`).method, 'PROPFIND');
  assert.equal(ok(`OPTIONS * HTTP/1.1\r\n${H}\r\n`).path, '*');
  assert.equal(ok('GET / HTTP/1.0\r\n\r\n').host, null);
  assert.equal(ok('GET http://s.test HTTP/1.0\r\n\r\n').path, '/');
  assert.equal(ok('GET HTTPS://S.TEST?x=1 HTTP/1.1\r\nHost: s.test\r\n\r\n').path, '/?x=1');
  assert.equal(ok('GET http://[::1]:8080/p HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n').path, '/p');
  assert.equal(ok(`GET /a\\b%00 HTTP/1.1\r\n${H}\r\n`).target, '/a\\b%00');
  assert.equal(ok(`POST / HTTP/1.1\r\n${H}Content-Length: 007\r\n\r\n`).contentLength, 7);
  assert.equal(ok(`POST / HTTP/1.1\r\n${H}Content-Length: 9007199254740991\r\n\r\n`).contentLength, 2 ** 53 - 1);
  assert.equal(ok(`POST / HTTP/1.1\r\n${H}Content-Length:\t5\r\n\r\n`).contentLength, 5);
  const zero = ok(`POST / HTTP/1.1\r\n${H}Content-Length: 0\r\n\r\n`);
  assert.deepEqual([zero.bodyKind, zero.contentLength], ['length', 0]);
  assert.equal(ok(`POST / HTTP/1.1\r\n${H}Transfer-Encoding: Chunked\r\n\r\n`).bodyKind, 'chunked');
  assert.equal(ok(`POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip;q=1 , chunked\r\n\r\n`).bodyKind, 'chunked');
  assert.equal(ok(`POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n`).bodyKind, 'chunked');
  assert.equal(ok(`GET / HTTP/1.1\r\n${H}X: caf\xe9\r\n\r\n`).get('x'), 'caf\xe9');
  assert.equal(ok(`GET / HTTP/1.1\r\n${H}X: a\tb\r\n\r\n`).get('x'), 'a\tb');
  assert.equal(ok(`GET / HTTP/1.1\r\n${H}Expect: 200-ok\r\n\r\n`).expectContinue, false);
  assert.equal(ok(`GET / HTTP/1.1\r\n${H}Transfer_Encoding: chunked\r\n\r\n`).bodyKind, 'none');
});

test('Connection and Upgrade', () => {
  const head = (fields: string, version = '1.1') => {
    const r = parseRequest(`GET / HTTP/${version}\r\n${H}${fields}\r\n`);
    assert.ok(r.n > 0, r.head.errorDetail ?? '');
    return r.head;
  };
  assert.equal(head('').close, false);
  assert.equal(head('Connection: close\r\n').close, true);
  assert.equal(head('Connection: keep-alive, CLOSE\r\n').close, true);
  assert.equal(head('', '1.0').close, true);
  assert.equal(head('Connection: Keep-Alive\r\n', '1.0').close, false);
  assert.equal(head('Connection: keep-alive\r\nConnection: close\r\n', '1.0').close, true);
  const h = head('Connection: Upgrade, X-Secret ,, TE,Host, content-length\r\nConnection: x-secret\r\nUpgrade: websocket\r\nUpgrade: h2c\r\n');
  assert.equal(h.connectionUpgrade, true);
  assert.deepEqual(h.connectionTokens, ['x-secret', 'te']);
  assert.equal(h.upgrade, 'websocket, h2c');
  assert.equal(head('').connectionTokens, null);
  assert.equal(head('').upgrade, null);
  assert.equal(head('').connectionUpgrade, false);
});

test('names: lower-case strings are shared across heads for the same spelling', () => {
  const a = parseRequest(`GET / HTTP/1.1\r\n${H}X-Custom-Field: 1\r\n\r\n`).head;
  const b = parseRequest(`GET / HTTP/1.1\r\n${H}X-Custom-Field: 2\r\n\r\n`).head;
  assert.equal(a.lower[1], 'x-custom-field');
  assert.ok(Object.is(a.lower[1], b.lower[1]));
  assert.ok(Object.is(a.names[1], b.names[1]));
});

test('incomplete heads return 0 at every prefix, then the head', () => {
  const text = `\r\nPOST http://s.test/x HTTP/1.1\r\n${H}Content-Length: 3\r\nConnection: close\r\n\r\n`;
  const buf = Buffer.from(`${text}abc`, 'latin1');
  for (let end = 0; end < text.length; end++) assert.equal(parseRequestHead(buf, 0, end, LIMITS, new RequestHead()), 0, `end ${end}`);
  const head = new RequestHead();
  assert.equal(parseRequestHead(buf, 0, buf.length, LIMITS, head), text.length);
  assert.equal(head.path, '/x');
  // And at an offset inside a larger buffer (pipelined requests).
  const two = Buffer.from(`${text}abc${text}`, 'latin1');
  const second = new RequestHead();
  assert.equal(parseRequestHead(two, text.length + 3, two.length, LIMITS, second), two.length);
  assert.equal(second.headBytes, text.length);
});

test('limits: a head that cannot fit is 431 at once, one that fits exactly is accepted', () => {
  const text = `GET / HTTP/1.1\r\n${H}X-Big: ${'a'.repeat(100)}\r\n\r\n`;
  const exact = { maxHeadBytes: text.length, maxHeaders: 10 };
  assert.equal(parseRequest(text, exact).n, text.length);
  const less = { maxHeadBytes: text.length - 1, maxHeaders: 10 };
  const r = parseRequest(text, less);
  assert.deepEqual([r.n, r.head.error], [-1, 'H1_HEAD_TOO_LARGE']);
  // Incomplete but already at the limit: refused, not "need more".
  const partial = text.slice(0, 60);
  const p = parseRequest(partial, { maxHeadBytes: 60, maxHeaders: 10 });
  assert.deepEqual([p.n, p.head.error], [-1, 'H1_HEAD_TOO_LARGE']);
  assert.equal(parseRequest(partial, { maxHeadBytes: 61, maxHeaders: 10 }).n, 0);
  // A long request line counts too.
  const longLine = parseRequest(`GET /${'x'.repeat(200)} HTTP/1.1\r\n${H}\r\n`, { maxHeadBytes: 100, maxHeaders: 10 });
  assert.equal(longLine.head.error, 'H1_HEAD_TOO_LARGE');
  const fields = (k: number) => `GET / HTTP/1.1\r\n${H}${'X: 1\r\n'.repeat(k - 1)}\r\n`;
  assert.ok(parseRequest(fields(5), { maxHeadBytes: 1000, maxHeaders: 5 }).n > 0);
  const many = parseRequest(fields(6), { maxHeadBytes: 1000, maxHeaders: 5 });
  assert.deepEqual([many.n, many.head.error], [-1, 'H1_TOO_MANY_HEADERS']);
});

test('garbage never throws', () => {
  for (let i = 0; i < 2000; i++) {
    const bytes = Buffer.alloc(1 + (i % 64));
    for (let j = 0; j < bytes.length; j++) bytes[j] = (i * 31 + j * 17) & 0xff;
    const n = parseRequestHead(bytes, 0, bytes.length, LIMITS, new RequestHead());
    assert.ok(n >= -1);
  }
});

test('offsets outside the buffer are clamped, never read past or thrown on', () => {
  const buf = Buffer.from(`GET / HTTP/1.1\r\nHost: a\r\n\r\n`, 'latin1');
  assert.equal(parseRequestHead(buf, 0, buf.length + 100, LIMITS, new RequestHead()), buf.length);
  assert.equal(parseRequestHead(buf, -5, buf.length, LIMITS, new RequestHead()), buf.length);
  assert.equal(parseRequestHead(buf, 10, 5, LIMITS, new RequestHead()), 0);
});
