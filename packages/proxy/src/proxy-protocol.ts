// The PROXY protocol (HAProxy's doc/proxy-protocol.txt), versions 1 (text) and 2 (binary):
// a pure codec, no sockets and no timers. The listener feeds it the first bytes of a
// connection; the TCP and HTTP data planes write encodeProxyHeader() first on a new
// server connection.
import { SocketAddress } from 'node:net';

/** What a PROXY header says. `family: 'unknown'` (v1 UNKNOWN, v2 LOCAL or AF_UNSPEC): use the connection's own addresses. */
export class ProxyHeader {
  version: 1 | 2 = 1;
  command: 'proxy' | 'local' = 'proxy';
  family: 'tcp4' | 'tcp6' | 'unknown' = 'unknown';
  sourceAddress = '';
  sourcePort = 0;
  destAddress = '';
  destPort = 0;
  /** Why the header was refused (when parseProxyHeader returned -1). */
  error: string | null = null;
}

/** The longest v1 header, CRLF included (the spec's bound). */
export const PROXY_V1_MAX = 107;
/** The largest v2 address and TLV block accepted (the spec allows 65535; senders use far less). */
export const PROXY_V2_MAX_LENGTH = 4096;
/** The 12-byte v2 signature. */
export const PROXY_V2_SIGNATURE: Buffer = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

const V1_PREFIX = 'PROXY ';
const CR = 0x0d;
const LF = 0x0a;

function reset(out: ProxyHeader): void {
  out.version = 1;
  out.command = 'proxy';
  out.family = 'unknown';
  out.sourceAddress = '';
  out.sourcePort = 0;
  out.destAddress = '';
  out.destPort = 0;
  out.error = null;
}

function refuse(out: ProxyHeader, reason: string): -1 {
  out.error = reason;
  return -1;
}

/**
 * Parses a PROXY header at buf[start, end). Returns the offset just past it when a complete
 * valid v1 or v2 header is there; 0 when more bytes are needed (only while the bytes can
 * still begin a valid header within the maximum size: 107 bytes for v1, 16 + 4096 for v2);
 * -1 when they cannot (out.error says why). The result for a given input never changes
 * when more bytes are appended: a refusal stays a refusal and a header stays the same.
 */
export function parseProxyHeader(buf: Buffer, start: number, end: number, out: ProxyHeader): number {
  reset(out);
  if (end <= start) return 0;
  const first = buf[start];
  if (first === 0x50 /* P */) return parseV1(buf, start, end, out);
  if (first === CR) return parseV2(buf, start, end, out);
  return refuse(out, 'not a PROXY protocol header');
}

// ---- version 1 ------------------------------------------------------------------------

function parseV1(buf: Buffer, start: number, end: number, out: ProxyHeader): number {
  const avail = end - start;
  const prefixLen = Math.min(avail, V1_PREFIX.length);
  for (let i = 0; i < prefixLen; i++) {
    if (buf[start + i] !== V1_PREFIX.charCodeAt(i)) return refuse(out, 'not a PROXY protocol header');
  }
  if (avail <= V1_PREFIX.length) return 0;
  const limit = Math.min(end, start + PROXY_V1_MAX);
  let lf = -1;
  for (let i = start + V1_PREFIX.length; i < limit; i++) {
    const c = buf[i];
    if (c === LF) {
      lf = i;
      break;
    }
  }
  if (lf !== -1) {
    if (buf[lf - 1] !== CR) return refuse(out, 'v1: line not ended by CRLF');
    const line = buf.toString('latin1', start + V1_PREFIX.length, lf - 1);
    const why = checkV1(line, false, out);
    if (why !== null) return refuse(out, why);
    return lf + 1;
  }
  if (avail >= PROXY_V1_MAX) return refuse(out, `v1: no CRLF in the first ${PROXY_V1_MAX} bytes`);
  // Incomplete: the bytes so far must begin a valid line.
  const endsWithCr = buf[end - 1] === CR;
  const line = buf.toString('latin1', start + V1_PREFIX.length, endsWithCr ? end - 1 : end);
  const why = checkV1(line, !endsWithCr, out);
  if (why !== null) return refuse(out, why);
  reset(out);
  return 0;
}

const PROTOCOLS = ['TCP4', 'TCP6', 'UNKNOWN'];

/**
 * Checks the v1 line after "PROXY " (without its CRLF). `partial`: the line may go on, so its
 * last token only has to begin a valid token. Fills `out` when the line is complete and valid.
 * Returns why it is refused, or null.
 */
function checkV1(line: string, partial: boolean, out: ProxyHeader): string | null {
  if (line.includes('\r')) return 'v1: CR inside the line';
  const tokens = line.split(' ');
  const proto = tokens[0] ?? '';
  if (tokens.length === 1 && partial) {
    return PROTOCOLS.some((p) => p.startsWith(proto)) ? null : 'v1: protocol not TCP4, TCP6 or UNKNOWN';
  }
  if (proto === 'UNKNOWN') {
    // The sender may put anything after UNKNOWN; the receiver ignores it (the spec).
    out.version = 1;
    out.family = 'unknown';
    return null;
  }
  if (proto !== 'TCP4' && proto !== 'TCP6') return 'v1: protocol not TCP4, TCP6 or UNKNOWN';
  const v4 = proto === 'TCP4';
  for (let i = 1; i < tokens.length - (partial ? 1 : 0); i++) {
    if (tokens[i] === '') return 'v1: fields not separated by exactly one space';
  }
  if (tokens.length > 5) return 'v1: too many fields';
  if (!partial && tokens.length < 5) return 'v1: missing fields';
  for (let i = 1; i < tokens.length; i++) {
    const t = tokens[i] ?? '';
    const last = partial && i === tokens.length - 1;
    if (i <= 2) {
      const ok = v4 ? (last ? isIpv4Prefix(t) : parseIpv4(t) !== null) : last ? isIpv6Prefix(t) : parseIpv6(t) !== null;
      if (!ok) return `v1: bad ${i === 1 ? 'source' : 'destination'} address for ${proto}`;
    } else if (!(last && t === '') && parsePort(t) === -1) {
      return `v1: bad ${i === 3 ? 'source' : 'destination'} port`;
    }
  }
  if (partial) return null;
  const src = tokens[1] ?? '';
  const dst = tokens[2] ?? '';
  out.version = 1;
  out.command = 'proxy';
  if (v4) {
    out.family = 'tcp4';
    out.sourceAddress = src;
    out.destAddress = dst;
  } else {
    const s = formatIpv6Text(src);
    const d = formatIpv6Text(dst);
    if (s === null || d === null) return `v1: bad address for ${proto}`;
    out.family = 'tcp6';
    out.sourceAddress = s;
    out.destAddress = d;
  }
  out.sourcePort = parsePort(tokens[3] ?? '');
  out.destPort = parsePort(tokens[4] ?? '');
  return null;
}

/** A decimal number 0-`max` of at most `digits` digits without leading zeros, or -1. */
function parseDecimal(s: string, digits: number, max: number): number {
  if (s.length === 0 || s.length > digits) return -1;
  if (s.length > 1 && s.charCodeAt(0) === 0x30) return -1;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const d = s.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n <= max ? n : -1;
}

/** A port 0-65535, or -1. */
const parsePort = (s: string): number => parseDecimal(s, 5, 65535);

/** An IPv4 octet 0-255, or -1. */
const parseOctet = (s: string): number => parseDecimal(s, 3, 255);

/** A dotted-decimal IPv4 address (four octets, no leading zeros) as 4 bytes, or null. */
export function parseIpv4(s: string): number[] | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  const bytes: number[] = [];
  for (const p of parts) {
    const n = parseOctet(p);
    if (n === -1) return null;
    bytes.push(n);
  }
  return bytes;
}

/** Whether `s` can begin a valid IPv4 address (every prefix of a valid octet is a valid octet). */
function isIpv4Prefix(s: string): boolean {
  const parts = s.split('.');
  if (parts.length > 4) return false;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] ?? '';
    if (i === parts.length - 1 && p === '') return true;
    if (parseOctet(p) === -1) return false;
  }
  return true;
}

const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/**
 * A textual IPv6 address (RFC 4291 2.2: hex groups, at most one "::", an IPv4 tail; no zone)
 * as 16 bytes, or null.
 */
export function parseIpv6(s: string): Uint8Array | null {
  if (s.length < 2 || s.length > 45) return null;
  const gap = s.indexOf('::');
  if (gap !== -1 && s.indexOf('::', gap + 1) !== -1) return null;
  const head = gap === -1 ? s : s.slice(0, gap);
  const tail = gap === -1 ? '' : s.slice(gap + 2);
  const words: number[] = [];
  const tailWords: number[] = [];
  if (!groups(head, words, gap === -1)) return null;
  if (gap !== -1 && !groups(tail, tailWords, true)) return null;
  const count = words.length + tailWords.length;
  if (gap === -1 ? count !== 8 : count > 7) return null;
  const bytes = new Uint8Array(16);
  words.forEach((w, i) => {
    bytes[2 * i] = w >> 8;
    bytes[2 * i + 1] = w & 0xff;
  });
  const offset = 8 - tailWords.length;
  tailWords.forEach((w, i) => {
    bytes[2 * (offset + i)] = w >> 8;
    bytes[2 * (offset + i) + 1] = w & 0xff;
  });
  return bytes;
}

/** Reads colon-separated hex groups (an IPv4 tail allowed last when `v4Tail`) into 16-bit words. */
function groups(s: string, words: number[], v4Tail: boolean): boolean {
  if (s === '') return true;
  const parts = s.split(':');
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] ?? '';
    if (v4Tail && i === parts.length - 1 && p.includes('.')) {
      const v4 = parseIpv4(p);
      if (v4 === null) return false;
      words.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
    } else {
      if (!HEX_GROUP.test(p)) return false;
      words.push(Number.parseInt(p, 16));
    }
    if (words.length > 8) return false;
  }
  return true;
}

// Shortest completions that turn any prefix of a valid IPv6 address into a valid one: more
// hex digits never help, so what can be missing is a group, a "::" or the rest of an IPv4 tail.
const IPV6_COMPLETIONS = ['', '0', ':', '::', ':0', '0::', '.0', '0.0', '.0.0', '0.0.0', '.0.0.0'];

/** Whether `s` can begin a valid IPv6 address. */
function isIpv6Prefix(s: string): boolean {
  if (s === '') return true;
  if (s.length > 45) return false;
  return IPV6_COMPLETIONS.some((c) => parseIpv6(s + c) !== null);
}

/** An IPv6 address as Node prints it (inet_ntop: lowercase, "::" for the longest zero run, IPv4 tails kept). */
function formatIpv6Text(s: string): string | null {
  try {
    return new SocketAddress({ address: s, family: 'ipv6' }).address;
  } catch {
    return null;
  }
}

function formatIpv6Bytes(buf: Buffer, at: number): string | null {
  let text = '';
  for (let i = 0; i < 8; i++) {
    if (i > 0) text += ':';
    text += buf.readUInt16BE(at + 2 * i).toString(16);
  }
  return formatIpv6Text(text);
}

// ---- version 2 ------------------------------------------------------------------------

const V2_HEADER = 16;
const FAM_UNSPEC = 0x00;
const FAM_TCP4 = 0x11;
const FAM_TCP6 = 0x21;

function parseV2(buf: Buffer, start: number, end: number, out: ProxyHeader): number {
  const avail = end - start;
  const sigLen = Math.min(avail, PROXY_V2_SIGNATURE.length);
  for (let i = 0; i < sigLen; i++) {
    if (buf[start + i] !== PROXY_V2_SIGNATURE[i]) return refuse(out, 'not a PROXY protocol header');
  }
  if (avail <= 12) return 0;
  const verCmd = buf[start + 12] ?? 0;
  if (verCmd >> 4 !== 2) return refuse(out, 'v2: version not 2');
  const cmd = verCmd & 0x0f;
  if (cmd > 1) return refuse(out, 'v2: command not LOCAL or PROXY');
  const local = cmd === 0;
  if (avail === 13) return 0;
  const fam = buf[start + 13] ?? 0;
  if (fam >> 4 > 3 || (fam & 0x0f) > 2) return refuse(out, 'v2: unknown address family or transport');
  let addrLen = 0;
  if (!local) {
    if (fam === FAM_TCP4) addrLen = 12;
    else if (fam === FAM_TCP6) addrLen = 36;
    else if (fam !== FAM_UNSPEC) return refuse(out, fam >> 4 === 3 ? 'v2: UNIX addresses refused' : 'v2: only TCP over IPv4 or IPv6');
  }
  if (avail < V2_HEADER) return 0;
  const len = buf.readUInt16BE(start + 14);
  if (len > PROXY_V2_MAX_LENGTH) return refuse(out, `v2: length ${len} above ${PROXY_V2_MAX_LENGTH}`);
  if (len < addrLen) return refuse(out, 'v2: length shorter than the addresses');
  const total = V2_HEADER + len;
  if (avail < total) return 0;
  const a = start + V2_HEADER;
  // TLVs after the addresses: type (1), length (2), value; skipped, but they must fit exactly.
  // Under LOCAL or AF_UNSPEC the whole block is discarded unread (the spec).
  if (addrLen > 0) {
    let at = a + addrLen;
    const stop = start + total;
    while (at < stop) {
      if (stop - at < 3) return refuse(out, 'v2: truncated TLV');
      at += 3 + buf.readUInt16BE(at + 1);
      if (at > stop) return refuse(out, 'v2: TLV longer than the header');
    }
  }
  out.version = 2;
  out.command = local ? 'local' : 'proxy';
  if (local || fam === FAM_UNSPEC) {
    out.family = 'unknown';
    return start + total;
  }
  if (fam === FAM_TCP4) {
    out.family = 'tcp4';
    out.sourceAddress = `${buf[a]}.${buf[a + 1]}.${buf[a + 2]}.${buf[a + 3]}`;
    out.destAddress = `${buf[a + 4]}.${buf[a + 5]}.${buf[a + 6]}.${buf[a + 7]}`;
    out.sourcePort = buf.readUInt16BE(a + 8);
    out.destPort = buf.readUInt16BE(a + 10);
  } else {
    const s = formatIpv6Bytes(buf, a);
    const d = formatIpv6Bytes(buf, a + 16);
    if (s === null || d === null) return refuse(out, 'v2: bad IPv6 address');
    out.family = 'tcp6';
    out.sourceAddress = s;
    out.destAddress = d;
    out.sourcePort = buf.readUInt16BE(a + 32);
    out.destPort = buf.readUInt16BE(a + 34);
  }
  return start + total;
}

// ---- encoding ---------------------------------------------------------------------------

export interface ProxyEndpoint {
  readonly address: string;
  readonly port: number;
}

type Parsed = { v4: number[]; v6: null } | { v4: null; v6: Uint8Array };

function endpoint(e: ProxyEndpoint): Parsed | null {
  if (!Number.isInteger(e.port) || e.port < 0 || e.port > 65535) return null;
  const pct = e.address.indexOf('%');
  const address = pct === -1 ? e.address : e.address.slice(0, pct); // a zone means nothing to the receiver
  const v4 = parseIpv4(address);
  if (v4 !== null) return { v4, v6: null };
  const v6 = parseIpv6(address);
  return v6 === null ? null : { v4: null, v6 };
}

/** The IPv4-mapped IPv6 form (::ffff:a.b.c.d) of an address, or the IPv6 address itself. */
function asIpv6(p: Parsed): Uint8Array {
  if (p.v6 !== null) return p.v6;
  const bytes = new Uint8Array(16);
  bytes[10] = 0xff;
  bytes[11] = 0xff;
  bytes.set(p.v4, 12);
  return bytes;
}

/**
 * A PROXY header for a connection from `source` to `dest`. Both IPv4: TCP4 (v1) or AF_INET
 * (v2). At least one IPv6: TCP6 or AF_INET6, the IPv4 one sent as its IPv4-mapped IPv6 form
 * (::ffff:a.b.c.d), as HAProxy does. An address that is neither (a UNIX socket, none at all)
 * or a port out of range: v1 "PROXY UNKNOWN", v2 LOCAL with AF_UNSPEC (the receiver then
 * uses the connection's own addresses), as HAProxy does.
 */
export function encodeProxyHeader(version: 'v1' | 'v2', source: ProxyEndpoint, dest: ProxyEndpoint): Buffer {
  const s = endpoint(source);
  const d = endpoint(dest);
  if (version === 'v1') {
    if (s === null || d === null) return Buffer.from('PROXY UNKNOWN\r\n', 'latin1');
    if (s.v4 !== null && d.v4 !== null) {
      return Buffer.from(`PROXY TCP4 ${s.v4.join('.')} ${d.v4.join('.')} ${source.port} ${dest.port}\r\n`, 'latin1');
    }
    const sa = formatIpv6Bytes(Buffer.from(asIpv6(s)), 0);
    const da = formatIpv6Bytes(Buffer.from(asIpv6(d)), 0);
    if (sa === null || da === null) return Buffer.from('PROXY UNKNOWN\r\n', 'latin1');
    return Buffer.from(`PROXY TCP6 ${sa} ${da} ${source.port} ${dest.port}\r\n`, 'latin1');
  }
  if (s === null || d === null) {
    const out = Buffer.alloc(V2_HEADER);
    PROXY_V2_SIGNATURE.copy(out, 0);
    out[12] = 0x20; // version 2, LOCAL
    out[13] = FAM_UNSPEC;
    return out;
  }
  const both4 = s.v4 !== null && d.v4 !== null;
  const addrLen = both4 ? 12 : 36;
  const out = Buffer.alloc(V2_HEADER + addrLen);
  PROXY_V2_SIGNATURE.copy(out, 0);
  out[12] = 0x21; // version 2, PROXY
  out[13] = both4 ? FAM_TCP4 : FAM_TCP6;
  out.writeUInt16BE(addrLen, 14);
  if (both4) {
    out.set(s.v4 ?? [], 16);
    out.set(d.v4 ?? [], 20);
    out.writeUInt16BE(source.port, 24);
    out.writeUInt16BE(dest.port, 26);
  } else {
    out.set(asIpv6(s), 16);
    out.set(asIpv6(d), 32);
    out.writeUInt16BE(source.port, 48);
    out.writeUInt16BE(dest.port, 50);
  }
  return out;
}
