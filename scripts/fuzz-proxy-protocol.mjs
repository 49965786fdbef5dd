#!/usr/bin/env node
// Feeds mutated PROXY protocol headers (v1 and v2, made by the encoder then damaged) into
// the built codec (packages/proxy/dist) at a random offset and a random split, and reports
// throws (none allowed), broken invariants (none allowed: a result is -1, 0 or an offset
// within the input; an error only with -1; a prefix never contradicts the whole), accepts and
// refusals by reason. Usage: node scripts/fuzz-proxy-protocol.mjs [count] [seed]
// (count: inputs, default 1,000,000).
import { fuzzArgs, loadBuilt } from './lib/fuzz-kit.mjs';

const { encodeProxyHeader, parseProxyHeader, ProxyHeader, PROXY_V2_SIGNATURE } = await loadBuilt('packages/proxy/dist/src/proxy-protocol.js');
const { total, below, pick } = fuzzArgs('fuzz-proxy-protocol.mjs', 15);

const V4 = ['0.0.0.0', '1.2.3.4', '10.0.0.1', '127.0.0.1', '192.168.100.200', '255.255.255.255'];
const V6 = ['::', '::1', '2001:db8::1', 'fe80::1:2', '::ffff:1.2.3.4', '1:2:3:4:5:6:7:8', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', '64:ff9b::10.0.0.1'];
const PORTS = [0, 1, 80, 443, 8080, 65535];
const randomV4 = () => `${below(256)}.${below(256)}.${below(256)}.${below(256)}`;
const randomV6 = () => Array.from({ length: 8 }, () => (below(4) === 0 ? '0' : below(65536).toString(16))).join(':');
function address() {
  switch (below(4)) {
    case 0:
      return pick(V4);
    case 1:
      return pick(V6);
    case 2:
      return randomV4();
    default:
      return randomV6();
  }
}
const port = () => (below(2) === 0 ? pick(PORTS) : below(65536));

// Hand-written headers the encoder never makes (UNKNOWN lines, LOCAL, TLVs, odd spellings).
function v2(verCmd, fam, block) {
  const head = Buffer.alloc(16);
  PROXY_V2_SIGNATURE.copy(head);
  head[12] = verCmd;
  head[13] = fam;
  head.writeUInt16BE(block.length, 14);
  return Buffer.concat([head, Buffer.from(block)]);
}
const EXTRA = [
  Buffer.from('PROXY UNKNOWN\r\n'),
  Buffer.from('PROXY UNKNOWN 1.2.3.4 5.6.7.8 1 2\r\n'),
  Buffer.from('PROXY TCP6 0:0:0:0:0:FFFF:1.2.3.4 2001:DB8:0:0:1:0:0:1 1 2\r\n'),
  v2(0x20, 0x00, []),
  v2(0x20, 0x11, [1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 0, 2]),
  v2(0x21, 0x00, [9, 9, 9]),
  v2(0x21, 0x11, [1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 0, 2, 0x01, 0x00, 0x02, 0x68, 0x32, 0x04, 0x00, 0x00]),
];

const PIECES = ['\r\n', '\r', '\n', ' ', '  ', ':', '::', '.', '0', '00', '65536', '%', 'TCP4', 'TCP6', 'UNKNOWN', 'PROXY ', '\x00', '\xff'];

function base() {
  if (below(8) === 0) return Buffer.from(pick(EXTRA));
  const version = below(2) === 0 ? 'v1' : 'v2';
  return encodeProxyHeader(version, { address: address(), port: port() }, { address: address(), port: port() });
}

function mutate(buf) {
  let b = buf;
  const edits = 1 + below(4);
  for (let e = 0; e < edits; e++) {
    const i = b.length === 0 ? 0 : below(b.length + 1);
    switch (below(8)) {
      case 0: // flip a bit
        if (b.length > 0) {
          b = Buffer.from(b);
          const j = below(b.length);
          b[j] ^= 1 << below(8);
        }
        break;
      case 1: // set a byte
        if (b.length > 0) {
          b = Buffer.from(b);
          b[below(b.length)] = below(256);
        }
        break;
      case 2: // insert a byte
        b = Buffer.concat([b.subarray(0, i), Buffer.from([below(256)]), b.subarray(i)]);
        break;
      case 3: // delete a run
        b = Buffer.concat([b.subarray(0, i), b.subarray(i + 1 + below(4))]);
        break;
      case 4: // truncate
        b = b.subarray(0, i);
        break;
      case 5: // insert a meaningful piece
        b = Buffer.concat([b.subarray(0, i), Buffer.from(pick(PIECES), 'latin1'), b.subarray(i)]);
        break;
      case 6: // the v2 length or family bytes
        if (b.length >= 16 && b[0] === 0x0d) {
          b = Buffer.from(b);
          if (below(2) === 0) b.writeUInt16BE(below(2) === 0 ? below(65536) : below(64), 14);
          else b[12 + below(2)] = below(256);
        }
        break;
      default: // append bytes
        b = Buffer.concat([b, Buffer.from(Array.from({ length: 1 + below(8) }, () => below(256)))]);
    }
  }
  return b;
}

const header = new ProxyHeader();
const prefixHeader = new ProxyHeader();
let throws = 0;
let broken = 0;
let accepted = 0;
let more = 0;
const reasons = new Map();
const started = performance.now();

function report(kind, input, detail) {
  if (throws + broken <= 10) console.log(`${kind}: ${JSON.stringify(input.toString('latin1'))}: ${detail}`);
}

for (let count = 0; count < total; count++) {
  const input = below(10) === 0 ? base() : mutate(base());
  const offset = below(4);
  const buf = offset === 0 ? input : Buffer.concat([Buffer.alloc(offset, 0x50), input]);
  const end = buf.length;
  try {
    const n = parseProxyHeader(buf, offset, end, header);
    if (!(n === -1 || n === 0 || (n > offset && n <= end)) || (n === -1) !== (header.error !== null)) {
      broken++;
      report('broken result', input, `${n} ${header.error}`);
      continue;
    }
    // One random split: the prefix must agree with the whole.
    const k = offset + below(end - offset + 1);
    const p = parseProxyHeader(buf, offset, k, prefixHeader);
    const agrees = n > 0 ? (k < n ? p === 0 : p === n) : n === 0 ? p === 0 : p === 0 || p === -1;
    if (!agrees) {
      broken++;
      report('split disagrees', input, `whole ${n}, prefix of ${k - offset}: ${p} ${prefixHeader.error}`);
      continue;
    }
    if (n > 0) accepted++;
    else if (n === 0) more++;
    else {
      const reason = (header.error ?? '').replace(/\b\d+\b/g, 'N');
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    }
  } catch (err) {
    throws++;
    report('throw', input, err instanceof Error ? err.stack : String(err));
  }
}

const seconds = (performance.now() - started) / 1000;
console.log(
  `proxy protocol: ${total} inputs in ${seconds.toFixed(1)} s: ${accepted} accepted, ${more} incomplete, ${total - accepted - more - throws - broken} refused`,
);
for (const [reason, n] of [...reasons].sort((a, b) => b[1] - a[1])) console.log(`  ${String(n).padStart(8)}  ${reason}`);
console.log(`throws: ${throws}, broken invariants: ${broken}`);
process.exit(throws === 0 && broken === 0 ? 0 : 1);
