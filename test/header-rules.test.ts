import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateConfigText } from '@rustlb/config';
import { isFieldName, isFieldValueByte } from '@rustlb/core';
import { parseRequestHead, parseResponseHead, RequestHead, ResponseHead } from '@rustlb/http1';

// Issue 19: a header the configuration lets through is one the data plane accepts, byte
// for byte, and the other way round: the configuration's rules (core/http-field.ts) and
// the HTTP/1.1 codec's (packages/http1) are compared on every byte a header can hold.

const LIMITS = { maxHeadBytes: 16_384, maxHeaders: 100 };

const hex = (c: number) => c.toString(16).padStart(2, '0');

/** A configuration setting `name: value` on requests and responses, both YAML-escaped. */
function configWith(name: string, value: string): string {
  const esc = (s: string) =>
    [...s]
      .map((ch) => {
        const cp = ch.codePointAt(0) as number;
        return cp <= 0xff ? `\\x${hex(cp)}` : cp <= 0xffff ? `\\u${cp.toString(16).padStart(4, '0')}` : `\\U${cp.toString(16).padStart(8, '0')}`;
      })
      .join('');
  return [
    'frontends:',
    '  - name: web',
    '    listen: "127.0.0.1:8080"',
    '    protocol: http',
    '    backend: pool',
    '    http:',
    `      request_headers: {"${esc(name)}": "${esc(value)}"}`,
    `      response_headers: {"${esc(name)}": "${esc(value)}"}`,
    'backends: [{name: pool, servers: [{address: "127.0.0.1:9001"}]}]',
    '',
  ].join('\n');
}

const parsesRequest = (field: string) => {
  const buf = Buffer.from(`GET / HTTP/1.1\r\nHost: a.test\r\n${field}\r\n\r\n`, 'latin1');
  return parseRequestHead(buf, 0, buf.length, LIMITS, new RequestHead()) > 0;
};
const parsesResponse = (field: string) => {
  const buf = Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: 0\r\n${field}\r\n\r\n`, 'latin1');
  return parseResponseHead(buf, 0, buf.length, false, LIMITS, new ResponseHead()) > 0;
};

test('a value byte the configuration accepts is one the codec accepts, in requests and responses, for all 256 bytes', () => {
  const differ: string[] = [];
  for (let c = 0; c < 256; c++) {
    const value = `a${String.fromCharCode(c)}b`;
    const config = validateConfigText(configWith('X-A', value)).ok;
    const request = parsesRequest(`X-A: ${value}`);
    const response = parsesResponse(`X-A: ${value}`);
    if (config !== request || config !== response || config !== isFieldValueByte(c))
      differ.push(`0x${hex(c)}: config ${config}, request ${request}, response ${response}`);
  }
  assert.deepEqual(differ, []);
});

test('a name byte the configuration accepts is one the codec accepts, for all 256 bytes', () => {
  const differ: string[] = [];
  for (let c = 0; c < 256; c++) {
    // A colon would only end the name sooner.
    if (c === 0x3a) continue;
    const name = `X${String.fromCharCode(c)}A`;
    const config = validateConfigText(configWith(name, 'v')).ok;
    const request = parsesRequest(`${name}: v`);
    if (config !== request || config !== isFieldName(name)) differ.push(`0x${hex(c)}: config ${config}, request ${request}`);
  }
  assert.deepEqual(differ, []);
});

test('a character above U+00FF has no byte: the configuration refuses what the codec could only mangle', () => {
  for (const ch of ['\u0100', '\uffff', '\u{1F600}']) {
    assert.equal(validateConfigText(configWith('X-A', `a${ch}b`)).ok, false);
    // Written as latin1 (one byte a character) it would become another byte entirely.
    assert.notEqual(Buffer.from(ch, 'latin1').toString('latin1'), ch);
  }
});
