// Differential test against Node's own strict parser (node:http, insecureHTTPParser off),
// the parser rustlb relied on before it had this codec. On the Http11Probe corpus and on
// generated and mutated heads and chunked bodies:
// - when both accept a head, the framing (body kind and length) is the same, always;
// - every difference in acceptance is one the allow-lists below explain.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { ChunkedDecoder, type H1Code, parseRequestHead, parseResponseHead, RequestHead, ResponseHead } from '../src/index.js';
import { genChunked, genRequest, genResponse, INTERESTING, mutate, mutations, requestText, responseText } from './generators.js';
import { CHUNK_LIMITS, LIMITS } from './helpers.js';
import { NodeOracle, NodeResponseOracle, type NodeResponseVerdict, type NodeVerdict } from './node-oracle.js';

/** rustlb refuses, Node's parser accepts: each on purpose (docs/http-proxy.md, "Requests rustlb refuses"). */
const RUSTLB_STRICTER: Partial<Record<H1Code, string>> = {
  H1_MISSING_HOST: "Node's parser does not require Host; RFC 9112 §3.2 does for HTTP/1.1 (rustlb's own check on top of Node before)",
  H1_MULTIPLE_HOST: 'Node keeps the first of two Host lines and says nothing: an ambiguity a server may read the other way',
  H1_BAD_HOST: 'Node does not look at the Host value; rustlb refuses what is not uri-host [":" port] (userinfo, a path, a list, empty)',
  H1_HOST_MISMATCH: 'RFC 9112 §3.2.2: an absolute-form target and a different Host are ambiguous',
  H1_FRAGMENT: 'no request-target form has a fragment (RFC 9112 §3.2); Node takes any URL bytes',
  H1_ASTERISK_NOT_OPTIONS: '`*` is only for OPTIONS (RFC 9112 §3.2.4)',
  H1_BAD_TARGET: 'a target of no RFC 9112 §3.2 form (not /…, http(s)://authority, or *), or an invalid authority: Node takes any URL bytes',
  H1_BAD_REQUEST_LINE:
    'RFC 9112 §3: exactly one SP between the parts (Node allows several: issue 14); an HTTP/0.9 request line (no version, or a target run into the version), which Node takes; more than a few empty lines before the request line',
  H1_BAD_VERSION: 'the same extra SP before the version, which rustlb then reads as part of a malformed version',
  H1_VERSION_NOT_SUPPORTED: 'Node takes `HTTP/0.9` and `HTTP/2.0` request lines; rustlb answers 505',
  H1_CONNECT: 'Node parses CONNECT (its connect event); rustlb does not tunnel and answers 501',
  H1_BAD_TRANSFER_ENCODING: "Node's parser takes an empty Transfer-Encoding, one not ending in chunked, or a malformed list; RFC 9112 §6.3 asks 400",
  H1_TE_IN_HTTP10: 'RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 is faulty framing',
  H1_BAD_CONTENT_LENGTH: 'a Content-Length above 2^53-1, which Node takes up to 2^64-1',
  H1_BAD_LINE_ENDING: 'a bare CR or LF that Node tolerates (it skips any CR and LF before the request line); RFC 9112 §2.2 allows neither',
  H1_TOO_MANY_HEADERS: "Node has no count limit (maxHeadersCount only truncates what it reports, and rustlb's limit is its own)",
};

/** Where rustlb is laxer than Node: by Node's error code, with the shape of input it covers (nothing else passes). */
interface Laxer {
  readonly codes: readonly string[];
  readonly shape: RegExp;
  readonly reason: string;
}

/** rustlb accepts a head Node refuses. */
const NODE_STRICTER_HEAD: readonly Laxer[] = [
  {
    codes: ['HPE_INVALID_CONTENT_LENGTH'],
    shape: /\r\ncontent-length:[ \t]*\d+[ \t]*\t[ \t]*\r\n/i,
    reason:
      'a tab after the Content-Length digits: OWS (RFC 9110 §5.5), which llhttp allows only as SP there; rustlb trims it and forwards the bare digits, so a server sees one clean length',
  },
];

/** A chunked body rustlb refuses and Node reads to its end, by rustlb's code. */
const RUSTLB_STRICTER_BODY: Partial<Record<H1Code, string>> = {
  H1_BAD_CHUNK_EXTENSION: 'an extension with an empty value (`;a=`): RFC 9112 §7.1.1 has a token or a quoted-string there, llhttp takes nothing',
};

/** rustlb reads a chunked body to its end that Node refuses. */
const NODE_STRICTER_BODY: readonly Laxer[] = [
  {
    codes: ['HPE_INVALID_CONTENT_LENGTH', 'HPE_INVALID_TRANSFER_ENCODING'],
    shape: /\r\n0\r\n(?:[^\r]*\r\n)*(?:content-length|transfer-encoding):/i,
    reason:
      'Node checks trailer fields as if they were header fields, so a Content-Length or Transfer-Encoding trailer is a second one to it; rustlb drops trailers, never forwards them, so they frame nothing',
  },
  {
    codes: ['HPE_STRICT', 'HPE_INVALID_CHUNK_SIZE'],
    shape: /\r\n[0-9a-fA-F]+[ \t;]/,
    reason:
      "chunk extensions RFC 9112 §7.1.1 allows and llhttp's grammar does not (BWS around `;` and `=`, some token bytes, quoted-pairs); rustlb re-frames bodies with its own size lines, so no extension reaches a server",
  },
];

interface Case {
  what: string;
  bytes: Buffer;
}

function probeCases(): Case[] {
  const corpus = JSON.parse(readFileSync('/work/shared/http11probe/corpus.json', 'utf8')) as {
    tests: { id: string; request?: string; steps?: { request?: unknown }[] }[];
  };
  const out: Case[] = [];
  for (const t of corpus.tests) {
    const requests = t.request !== undefined ? [t.request] : (t.steps ?? []).map((s) => s.request).filter((r): r is string => typeof r === 'string');
    for (const r of requests) out.push({ what: `probe ${t.id}`, bytes: Buffer.from(r, 'latin1') });
  }
  return out;
}

const edits = mutations({ minLength: 1, maxLength: 2, bytes: [...INTERESTING, 0x41, 0x61, 0x31] });

// Fixed seeds keep the test deterministic; HTTP1_DIFF_SEED and HTTP1_DIFF_SCALE explore further.
const SEED = Number(process.env.HTTP1_DIFF_SEED ?? 14);
const SCALE = Number(process.env.HTTP1_DIFF_SCALE ?? 1);

function generatedCases(): Case[] {
  const valid = fc.sample(genRequest, { numRuns: 300 * SCALE, seed: SEED }).map(requestText);
  const out: Case[] = valid.map((t) => ({ what: 'generated', bytes: Buffer.from(t, 'latin1') }));
  for (const [t, muts] of fc.sample(fc.tuple(fc.constantFrom(...valid), edits), { numRuns: 1500 * SCALE, seed: SEED + 1 }))
    out.push({ what: 'mutated head', bytes: mutate(t, muts) });
  const head = 'POST /body HTTP/1.1\r\nHost: b.test\r\nTransfer-Encoding: chunked\r\n\r\n';
  for (const [c, muts] of fc.sample(fc.tuple(genChunked, fc.option(edits, { nil: null })), { numRuns: 500 * SCALE, seed: SEED + 2 }))
    out.push({
      what: 'chunked body',
      bytes: Buffer.concat([Buffer.from(head, 'latin1'), muts === null ? Buffer.from(c.text, 'latin1') : mutate(c.text, muts)]),
    });
  return out;
}

let oracle: NodeOracle;
let responses: NodeResponseOracle;
before(async () => {
  oracle = await NodeOracle.start(LIMITS.maxHeadBytes);
  responses = await NodeResponseOracle.start(LIMITS.maxHeadBytes);
});
after(async () => {
  await oracle?.close();
  await responses?.close();
});

function explained(list: readonly Laxer[], code: string, bytes: Buffer): Laxer | undefined {
  return list.find((l) => l.codes.includes(code) && l.shape.test(bytes.toString('latin1')));
}

/** Compares rustlb and Node on each case; returns the differences no allow-list explains. */
function unexplained(cases: readonly Case[], verdicts: readonly NodeVerdict[], seen: Set<string>): string[] {
  const problems: string[] = [];
  cases.forEach(({ what, bytes }, i) => {
    const node = verdicts[i] as NodeVerdict;
    const head = new RequestHead();
    const n = parseRequestHead(bytes, 0, bytes.length, LIMITS, head);
    const show = `${what}: ${JSON.stringify(bytes.toString('latin1').slice(0, 200))}`;
    if (n > 0 && node.accepted) {
      const sameLength = head.bodyKind !== 'length' || head.contentLength === node.length;
      if (head.bodyKind !== node.framing || !sameLength)
        problems.push(`FRAMING differs: rustlb ${head.bodyKind}/${head.contentLength}, Node ${node.framing}/${node.length}: ${show}`);
      if (head.method !== node.method || head.target !== node.url || head.versionMinor !== node.minor)
        problems.push(
          `request line read differently: ${head.method} ${head.target} 1.${head.versionMinor} vs ${node.method} ${node.url} 1.${node.minor}: ${show}`,
        );
      if (head.bodyKind === 'chunked') {
        const d = new ChunkedDecoder({ ...CHUNK_LIMITS, maxTrailerBytes: LIMITS.maxHeadBytes });
        const r = d.feed(bytes, n, bytes.length, { chunkData() {} });
        // Node sees the end of input (the client half-closes) where rustlb just waits for more.
        const ours = d.done ? 'complete' : r < 0 ? `refused ${d.error}` : 'HPE_INVALID_EOF_STATE';
        const same = ours === 'complete' ? node.body === 'complete' : node.body !== 'complete';
        if (!same) {
          const laxer = ours === 'complete' ? explained(NODE_STRICTER_BODY, node.body, bytes.subarray(n - 2)) : undefined;
          if (laxer !== undefined) seen.add(`body ${node.body}`);
          else if (node.body === 'complete' && d.error !== null && RUSTLB_STRICTER_BODY[d.error] !== undefined) seen.add(`body ${d.error}`);
          else problems.push(`chunked body: rustlb ${ours}, Node ${node.body}: ${show}`);
        }
      }
    } else if (n > 0 && !node.accepted) {
      if (explained(NODE_STRICTER_HEAD, node.code, bytes.subarray(0, n)) !== undefined) seen.add(`head ${node.code}`);
      else problems.push(`rustlb accepts a head Node refuses (${node.code}): ${show}`);
    } else if (n < 0 && node.accepted) {
      const code = head.error as H1Code;
      if (RUSTLB_STRICTER[code] !== undefined) seen.add(code);
      else problems.push(`rustlb refuses (${code}) a head Node accepts: ${show}`);
    }
  });
  return problems;
}

test('on the Http11Probe corpus: same framing, every difference explained', async () => {
  const cases = probeCases();
  assert.ok(cases.length > 200);
  const seen = new Set<string>();
  assert.deepEqual(unexplained(cases, await oracle.judgeAll(cases.map((c) => c.bytes)), seen), []);
  // The corpus exercises most of the allow-list: a stale entry would show here.
  for (const code of ['H1_MISSING_HOST', 'H1_MULTIPLE_HOST', 'H1_BAD_HOST', 'H1_HOST_MISMATCH', 'H1_FRAGMENT', 'H1_CONNECT', 'body HPE_INVALID_CONTENT_LENGTH'])
    assert.ok(seen.has(code), `${code} never seen`);
});

test('on generated and mutated heads and chunked bodies: same framing, every difference explained', async () => {
  const cases = generatedCases();
  const seen = new Set<string>();
  assert.deepEqual(unexplained(cases, await oracle.judgeAll(cases.map((c) => c.bytes)), seen), []);
});

/** A response head rustlb refuses (502) and Node's client parser takes, by rustlb's code. */
const RUSTLB_STRICTER_RESPONSE: Partial<Record<H1Code, string>> = {
  H1_BAD_STATUS_LINE: 'control characters in the reason phrase, or bytes before the status line, which llhttp lets through',
  H1_BAD_TRANSFER_ENCODING:
    'a malformed Transfer-Encoding list (empty elements, bytes that are no token) that Node reads as an unknown coding, body until close; rustlb does not guess the framing of a malformed response',
  H1_TE_IN_HTTP10: 'RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 is faulty framing',
  H1_BAD_LINE_ENDING: 'a bare CR Node tolerates; RFC 9112 §2.2 does not',
  H1_BAD_CONTENT_LENGTH: 'a Content-Length above 2^53-1, which Node takes up to 2^64-1',
};

test('responses: on generated and mutated heads, same status and framing, every difference explained', async () => {
  const valid = fc.sample(genResponse, { numRuns: 200 * SCALE, seed: SEED + 3 }).map(responseText);
  const cases: Case[] = valid.map((t) => ({ what: 'generated', bytes: Buffer.from(t, 'latin1') }));
  for (const [t, muts] of fc.sample(fc.tuple(fc.constantFrom(...valid), edits), { numRuns: 800 * SCALE, seed: SEED + 4 }))
    cases.push({ what: 'mutated', bytes: mutate(t, muts) });
  const verdicts = await responses.judgeAll(cases.map((c) => c.bytes));
  const problems: string[] = [];
  cases.forEach(({ what, bytes }, i) => {
    const node = verdicts[i] as NodeResponseVerdict;
    const head = new ResponseHead();
    const n = parseResponseHead(bytes, 0, bytes.length, false, LIMITS, head);
    const show = `${what}: ${JSON.stringify(bytes.toString('latin1').slice(0, 200))}`;
    // Node waits past a 1xx for the final answer, which these cases do not have.
    if (n > 0 && head.status < 200) return;
    if (n > 0 && node.accepted) {
      const sameLength = head.bodyKind !== 'length' || head.contentLength === node.length;
      if (head.status !== node.status || head.bodyKind !== node.framing || !sameLength)
        problems.push(
          `FRAMING differs: rustlb ${head.status} ${head.bodyKind}/${head.contentLength}, Node ${node.status} ${node.framing}/${node.length}: ${show}`,
        );
    } else if (n > 0 && !node.accepted) {
      if (explained(NODE_STRICTER_HEAD, node.code, bytes.subarray(0, n)) === undefined)
        problems.push(`rustlb accepts a response Node refuses (${node.code}): ${show}`);
    } else if (n < 0 && node.accepted) {
      if (RUSTLB_STRICTER_RESPONSE[head.error as H1Code] === undefined) problems.push(`rustlb refuses (${head.error}) a response Node accepts: ${show}`);
    }
  });
  assert.deepEqual(problems, []);
});
