#!/usr/bin/env node
// Feeds mutated request heads, response heads and chunked bodies into the built codec
// (packages/http1/dist) and reports throws (none allowed), broken invariants (none
// allowed), accepts and refusals by code. Usage: node scripts/fuzz-http1.mjs [count] [seed]
// (count: inputs of each kind, default 1,000,000 in all).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fuzzArgs, loadBuilt } from './lib/fuzz-kit.mjs';

const { ChunkedDecoder, H1_ERRORS, parseRequestHead, parseResponseHead, RequestHead, ResponseHead } = await loadBuilt('packages/http1/dist/src/index.js');
const { total, root, below, pick } = fuzzArgs('fuzz-http1.mjs', 14);

const H = 'Host: f.test\r\n';
const REQUESTS = [
  `GET / HTTP/1.1\r\n${H}\r\n`,
  `GET /a/b?c=d HTTP/1.1\r\n${H}User-Agent: fuzz\r\nAccept: */*\r\nConnection: keep-alive\r\n\r\n`,
  `POST /p HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Type: text/plain\r\n\r\n`,
  `POST /c HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n`,
  'GET http://f.test/abs HTTP/1.1\r\nHost: f.test\r\n\r\n',
  `OPTIONS * HTTP/1.1\r\n${H}\r\n`,
  'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n',
  `GET /ws HTTP/1.1\r\n${H}Connection: Upgrade, X-A\r\nUpgrade: websocket\r\nX-A: 1\r\n\r\n`,
  `\r\nPUT /x HTTP/1.1\r\n${H}Content-Length: 0\r\nX-Empty:\r\nX-Tab:\tv\t\r\n\r\n`,
];
const RESPONSES = [
  'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n',
  'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n',
  'HTTP/1.0 200 OK\r\nServer: x\r\n\r\n',
  'HTTP/1.1 204 No Content\r\n\r\n',
  'HTTP/1.1 304 Not Modified\r\nETag: "a"\r\n\r\n',
  'HTTP/1.1 100 Continue\r\n\r\n',
  'HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n',
  'HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n',
];
const BODIES = [
  '5\r\nhello\r\n0\r\n\r\n',
  '5;ext=v\r\nhello\r\n6 ; a="q\\"x"\r\n world\r\n0\r\nX-Sum: 1\r\n\r\n',
  '0\r\n\r\n',
  'A\r\n0123456789\r\n00\r\n\r\n',
  `1000\r\n${'x'.repeat(4096)}\r\n0\r\n\r\n`,
];
const OWN_REQUESTS = [...REQUESTS];
// The Http11Probe corpus, when this checkout has the shared folder beside it.
const probe = join(root, '../shared/http11probe/corpus.json');
if (existsSync(probe)) {
  for (const t of JSON.parse(readFileSync(probe, 'utf8')).tests) if (typeof t.request === 'string') REQUESTS.push(t.request);
}

const PIECES = [
  '\r\n',
  '\n',
  '\r',
  ' ',
  '\t',
  ':',
  ',',
  ';',
  '=',
  '"',
  '\\',
  '#',
  '/',
  '*',
  '?',
  '\x00',
  '\x7f',
  '\xff',
  '\x0b',
  '0',
  '-1',
  '+',
  'chunked',
  'gzip',
  'Transfer-Encoding: chunked\r\n',
  'Content-Length: 5\r\n',
  'Content-Length: 99999999999999999999\r\n',
  'Host: other.test\r\n',
  'Connection: close\r\n',
  'HTTP/1.1',
  'HTTP/1.0',
  'HTTP/2.0',
  'ffffffffffffffff',
  '0x',
  ' \r\n',
  'GET ',
  'http://',
];
const PIECE_BYTES = PIECES.map((p) => Buffer.from(p, 'latin1'));
const INTERESTING = [0x0d, 0x0a, 0x20, 0x09, 0x00, 0x3a, 0x2c, 0x3b, 0x22, 0x23, 0x2f, 0x7f, 0xff, 0x80, 0x30, 0x2b, 0x2d, 0x5f];

/** A mutation of `seedBytes`: one to four edits (replace, insert, delete, duplicate, splice a piece, truncate). */
function mutate(seedBytes) {
  let b = Buffer.from(seedBytes);
  const edits = 1 + below(4);
  for (let e = 0; e < edits; e++) {
    const at = below(b.length + 1);
    switch (below(7)) {
      case 0:
        if (at < b.length) b[at] = below(2) === 0 ? pick(INTERESTING) : below(256);
        break;
      case 1:
        b = Buffer.concat([b.subarray(0, at), Buffer.of(pick(INTERESTING)), b.subarray(at)]);
        break;
      case 2:
        b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + below(8)))]);
        break;
      case 3: {
        const len = Math.min(b.length - at, 1 + below(24));
        b = Buffer.concat([b.subarray(0, at + len), b.subarray(at, at + len), b.subarray(at + len)]);
        break;
      }
      case 4:
        b = Buffer.concat([b.subarray(0, at), pick(PIECE_BYTES), b.subarray(at)]);
        break;
      case 5:
        b = b.subarray(0, at);
        break;
      default:
        if (at < b.length) b[at] ^= 1 << below(8);
    }
  }
  return b;
}

const LIMITS = { maxHeadBytes: 8192, maxHeaders: 64 };
const CHUNK_LIMITS = { maxLineBytes: 1024, maxTrailerBytes: 2048 };
const CODES = new Set(Object.keys(H1_ERRORS));
const KINDS = new Set(['none', 'length', 'chunked', 'close']);

const stats = { request: new Map(), response: new Map(), chunked: new Map() };
let throws = 0;
let broken = 0;
const examples = [];
const count = (kind, key) => stats[kind].set(key, (stats[kind].get(key) ?? 0) + 1);
function report(what, buf, detail) {
  if (examples.length < 10) examples.push(`${what}: ${detail}: ${JSON.stringify(buf.toString('latin1').slice(0, 200))}`);
}

function checkHead(kind, buf, start, n, head) {
  if (n > 0) {
    const ok =
      n <= buf.length &&
      head.headBytes === n - start &&
      KINDS.has(head.bodyKind) &&
      head.error === null &&
      head.names.length === head.values.length &&
      head.lower.length === head.names.length &&
      Number.isSafeInteger(head.contentLength) &&
      head.contentLength >= 0;
    if (!ok) return 'accepted with inconsistent fields';
    count(kind, 'accepted');
  } else if (n === 0) {
    if (buf.length - start >= LIMITS.maxHeadBytes) return 'waits past the head limit';
    count(kind, 'incomplete');
  } else if (n === -1) {
    if (!CODES.has(head.error) || typeof head.errorDetail !== 'string') return `refused without a code (${head.error})`;
    count(kind, head.error);
  } else return `returned ${n}`;
  return null;
}

class Sink {
  bad = false;
  chunkData(_buf, s, e) {
    if (e <= s) this.bad = true;
  }
}

const started = process.hrtime.bigint();
for (let i = 0; i < total; i++) {
  const which = i % 3;
  let buf;
  try {
    if (which === 0) {
      buf = mutate(Buffer.from(below(2) === 0 ? pick(OWN_REQUESTS) : pick(REQUESTS), 'latin1'));
      const head = new RequestHead();
      const n = parseRequestHead(buf, 0, buf.length, LIMITS, head);
      let problem = checkHead('request', buf, 0, n, head);
      if (problem === null && below(8) === 0) {
        // The same bytes inside a larger buffer, junk around them: the same verdict (nothing read outside [start, end)).
        const pre = below(16);
        const big = Buffer.alloc(pre + buf.length + 16);
        for (let j = 0; j < big.length; j++) big[j] = below(256);
        buf.copy(big, pre);
        const again = new RequestHead();
        const m = parseRequestHead(big, pre, pre + buf.length, LIMITS, again);
        if ((m > 0 ? m - pre : m) !== n || again.error !== head.error || again.target !== head.target)
          problem = `at offset ${pre}: ${m} ${again.error}, alone: ${n} ${head.error}`;
      }
      if (problem !== null) {
        broken++;
        report('request', buf, problem);
      }
    } else if (which === 1) {
      buf = mutate(Buffer.from(pick(RESPONSES), 'latin1'));
      const head = new ResponseHead();
      const n = parseResponseHead(buf, 0, buf.length, below(4) === 0, LIMITS, head);
      const problem = checkHead('response', buf, 0, n, head);
      if (problem !== null) {
        broken++;
        report('response', buf, problem);
      }
    } else {
      buf = mutate(Buffer.from(pick(BODIES), 'latin1'));
      const d = new ChunkedDecoder(CHUNK_LIMITS);
      const sink = new Sink();
      let from = 0;
      let result = 'incomplete';
      while (from < buf.length) {
        const to = Math.min(buf.length, from + 1 + below(64));
        const r = d.feed(buf, from, to, sink);
        if (r === -1) {
          result = CODES.has(d.error) ? d.error : 'BAD CODE';
          break;
        }
        if (r < from || r > to || (r < to && !d.done)) {
          result = `returned ${r} for [${from}, ${to})`;
          break;
        }
        if (d.done) {
          result = 'accepted';
          break;
        }
        from = to;
      }
      // In one piece: the same verdict.
      const whole = new ChunkedDecoder(CHUNK_LIMITS);
      const w = whole.feed(buf, 0, buf.length, sink);
      const wholeResult = w === -1 ? whole.error : whole.done ? 'accepted' : 'incomplete';
      if (sink.bad || result.startsWith('returned') || result === 'BAD CODE' || wholeResult !== result) {
        broken++;
        report('chunked', buf, sink.bad ? 'empty chunkData' : `${result} in pieces, ${wholeResult} in one`);
      } else count('chunked', result);
    }
  } catch (err) {
    throws++;
    report(['request', 'response', 'chunked'][which], buf ?? Buffer.alloc(0), `threw ${err?.stack ?? err}`);
  }
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;

console.log(`http1 fuzz: ${total} inputs in ${seconds.toFixed(1)} s (seed ${process.argv[3] ?? 14}); throws: ${throws}; broken invariants: ${broken}`);
for (const [kind, m] of Object.entries(stats)) {
  const sorted = [...m].sort((a, b) => b[1] - a[1]);
  const all = sorted.reduce((s, [, c]) => s + c, 0);
  console.log(`  ${kind} (${all}): ${sorted.map(([k, c]) => `${k} ${c}`).join(', ')}`);
}
for (const e of examples) console.log(`  ! ${e}`);
process.exit(throws === 0 && broken === 0 ? 0 : 1);
