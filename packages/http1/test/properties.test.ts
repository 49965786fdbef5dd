import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseRequestHead, parseResponseHead, RequestHead, ResponseHead } from '../src/index.js';
import { genChunked, genRequest, genResponse, mutate, mutations, requestText, responseText } from './generators.js';
import { decodePieces, LIMITS, parseRequest, parseResponse } from './helpers.js';

const RUNS = 300;

test('a generated valid request, serialised, parses back to the same message', () => {
  fc.assert(
    fc.property(genRequest, (r) => {
      const text = requestText(r);
      const { n, head } = parseRequest(text);
      assert.equal(n, text.length, `${JSON.stringify(text)}: ${head.error} ${head.errorDetail}`);
      assert.equal(head.method, r.method);
      assert.equal(head.target, r.target);
      assert.equal(head.versionMinor, r.minor);
      assert.equal(head.host, r.host);
      assertFields(head, r.fields);
      assert.deepEqual(
        head.lower,
        head.names.map((x) => x.toLowerCase()),
      );
      assert.equal(head.bodyKind, r.framing);
      assert.equal(head.contentLength, r.length);
    }),
    { numRuns: RUNS },
  );
});

/** The head's field names and values are the flat [name, value, …] list it was made from, in order. */
function assertFields(head: RequestHead | ResponseHead, fields: readonly string[]): void {
  assert.deepEqual(
    head.names,
    fields.filter((_, i) => i % 2 === 0),
  );
  assert.deepEqual(
    head.values,
    fields.filter((_, i) => i % 2 === 1),
  );
}

test('a generated valid response, serialised, parses back to the same message', () => {
  fc.assert(
    fc.property(genResponse, fc.boolean(), (r, headRequest) => {
      const text = responseText(r);
      const { n, head } = parseResponse(text, headRequest);
      assert.equal(n, text.length, `${JSON.stringify(text)}: ${head.error}`);
      assert.deepEqual([head.status, head.reason, head.versionMinor], [r.status, r.reason, r.minor]);
      assertFields(head, r.fields);
      const noBody = headRequest || r.status < 200 || r.status === 204 || r.status === 304;
      assert.equal(head.bodyKind, noBody ? 'none' : r.framing === 'none' ? 'close' : r.framing);
    }),
    { numRuns: RUNS },
  );
});

/** Feeds buf[0, end) with end growing by one byte, as a proxy reading a socket would; the first non-zero result. */
function incremental<T extends RequestHead | ResponseHead>(buf: Buffer, parse: (end: number, out: T) => number, make: () => T): { n: number; head: T } {
  for (let end = 0; ; end++) {
    const head = make();
    const n = parse(end, head);
    if (n !== 0 || end === buf.length) return { n, head };
  }
}

/** Parsing `buf` byte by byte ends as parsing it whole: the same result, the same head. */
function assertSplitsLikeWhole<T extends RequestHead | ResponseHead>(buf: Buffer, parse: (end: number, out: T) => number, make: () => T): void {
  const whole = make();
  const n = parse(buf.length, whole);
  const inc = incremental(buf, parse, make);
  assert.equal(inc.n, n);
  assert.deepEqual(inc.head, whole);
}

/** A valid message, or one mutated at a few places (so refusals are compared too). */
function maybeMutated(text: fc.Arbitrary<string>): fc.Arbitrary<Buffer> {
  return fc.tuple(text, mutations({ maxLength: 3 })).map(([t, muts]) => mutate(t, muts));
}

test('request heads split at every byte boundary parse as in one piece (valid and mutated)', () => {
  fc.assert(
    fc.property(maybeMutated(genRequest.map(requestText)), (buf) => {
      assertSplitsLikeWhole(
        buf,
        (end, out) => parseRequestHead(buf, 0, end, LIMITS, out),
        () => new RequestHead(),
      );
    }),
    { numRuns: RUNS },
  );
});

test('response heads split at every byte boundary parse as in one piece (valid and mutated)', () => {
  fc.assert(
    fc.property(maybeMutated(genResponse.map(responseText)), fc.boolean(), (buf, headRequest) => {
      assertSplitsLikeWhole(
        buf,
        (end, out) => parseResponseHead(buf, 0, end, headRequest, LIMITS, out),
        () => new ResponseHead(),
      );
    }),
    { numRuns: RUNS },
  );
});

test('a head parses the same at any offset of a larger buffer, whatever follows it', () => {
  fc.assert(
    fc.property(genRequest, fc.uint8Array({ maxLength: 20 }), fc.uint8Array({ maxLength: 20 }), (r, before, after) => {
      const text = Buffer.from(requestText(r), 'latin1');
      const buf = Buffer.concat([before, text, after]);
      const head = new RequestHead();
      assert.equal(parseRequestHead(buf, before.length, buf.length, LIMITS, head), before.length + text.length);
      const alone = new RequestHead();
      parseRequestHead(text, 0, text.length, LIMITS, alone);
      assert.deepEqual(head, alone);
    }),
    { numRuns: RUNS },
  );
});

test('the chunked decoder gives the same data over arbitrary splits', () => {
  fc.assert(
    fc.property(genChunked, fc.array(fc.nat(), { maxLength: 8 }), fc.uint8Array({ maxLength: 10 }), (c, cuts, next) => {
      const body = Buffer.concat([Buffer.from(c.text, 'latin1'), next]);
      const sorted = cuts.map((x) => x % (body.length + 1)).sort((a, b) => a - b);
      const r = decodePieces(body, sorted);
      assert.deepEqual([r.error, r.done, r.end, r.empty], [null, true, c.text.length, 0], JSON.stringify(c.text));
      assert.equal(r.data, c.chunks.join(''));
    }),
    { numRuns: RUNS },
  );
});

test('the chunked decoder reaches the same verdict over arbitrary splits of mutated bodies', () => {
  fc.assert(
    fc.property(maybeMutated(genChunked.map((c) => c.text)), fc.array(fc.nat(), { maxLength: 6 }), (body, cuts) => {
      const sorted = cuts.map((x) => x % (body.length + 1)).sort((a, b) => a - b);
      const one = decodePieces(body, []);
      const split = decodePieces(body, sorted);
      assert.deepEqual([split.error, split.done, split.end, split.data], [one.error, one.done, one.end, one.data]);
    }),
    { numRuns: RUNS },
  );
});
