import type { H1Code } from './errors.js';
import { fieldStrings, parseFields } from './fields.js';
import { requestFraming, responseFraming } from './framing.js';
import { KNOWN_METHODS } from './methods.js';
import { fail, NEED_MORE, scan } from './scan.js';
import { CR, HTAB, LF, latin1, SP, TARGET, TOKEN, VALUE } from './tables.js';
import { absolutePrefix, checkHost, checkTarget } from './target.js';

/** Limits a head must stay within (else H1_HEAD_TOO_LARGE / H1_TOO_MANY_HEADERS, 431). */
export interface HeadLimits {
  /** Bytes of the whole head: start line, fields, and the blank line. */
  readonly maxHeadBytes: number;
  /** Number of header field lines. */
  readonly maxHeaders: number;
}

/**
 * How the body of a message is delimited (RFC 9112 §6.3), decided once by the parser:
 * 'none' (no body), 'length' (contentLength bytes), 'chunked', 'close' (responses only:
 * until the server closes).
 */
export type BodyKind = 'none' | 'length' | 'chunked' | 'close';

/** What heads of both kinds carry. Field names and values are latin1 strings of the raw bytes; values without surrounding OWS. */
export class HeadFields {
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  versionMinor = 1;
  /** Field names as received. */
  readonly names: string[] = [];
  /** Field names lower-cased (the same string objects for the same spelling: a small cache, not an allocation per field). */
  readonly lower: string[] = [];
  /** Field values, OWS trimmed. */
  readonly values: string[] = [];
  bodyKind: BodyKind = 'none';
  /** For bodyKind 'length'. */
  contentLength = 0;
  /** `Connection: close`, or HTTP/1.0 without `Connection: keep-alive`. */
  close = false;
  /** Lower-cased tokens of every Connection field other than close/keep-alive/upgrade; null when there are none. Never contains host or content-length. */
  connectionTokens: string[] | null = null;
  /** The Connection field lists `upgrade`. */
  connectionUpgrade = false;
  /** The Upgrade field's value (joined if repeated), or null. */
  upgrade: string | null = null;
  /** Bytes of the head, blank line included. */
  headBytes = 0;
  /** Set when a parse returned -1. */
  error: H1Code | null = null;
  /** A few words for logs and error pages (e.g. "more than one Host header"), set with error. */
  errorDetail: string | null = null;

  /** Value of the first field with this lower-case name, or undefined. */
  get(lowerName: string): string | undefined {
    const i = this.lower.indexOf(lowerName);
    return i < 0 ? undefined : this.values[i];
  }
}

export class RequestHead extends HeadFields {
  method = '';
  /** The request-target as sent. */
  target = '';
  /** The path the server will see: the origin form of an absolute-form target (`http://h/x?y` → `/x?y`), `*` for asterisk-form, else target. */
  path = '';
  /** The Host field value (exactly one, validated for HTTP/1.1; for HTTP/1.0, possibly null). */
  host: string | null = null;
  /** `Expect: 100-continue` (case-insensitive). */
  expectContinue = false;
}

export class ResponseHead extends HeadFields {
  status = 0;
  reason = '';
}

/**
 * Parses one request head from buf[start, end).
 * Returns the offset just past the head's blank line (> start) when a whole valid head is
 * there; 0 when more bytes are needed (only while end - start < limits.maxHeadBytes: a
 * head that cannot fit is refused at once with H1_HEAD_TOO_LARGE); -1 when refused, with
 * out.error (and out.errorDetail) set. `out` must be a fresh RequestHead.
 *
 * Strict by RFC 9112; refuses: anything but `method SP target SP HTTP/1.x CRLF` with
 * exactly one SP each (a well-formed `HTTP/d.d` other than 1.0/1.1, or a request line
 * is H1_VERSION_NOT_SUPPORTED 505; no version (HTTP/0.9) or a malformed version 400);
 * a method that is not a token; CONNECT (501); a target with CTLs, spaces or non-ASCII, a
 * fragment, a form other than origin (`/…`), absolute (`http://` or `https://`, case-
 * insensitive scheme) or `*` (OPTIONS only); bare CR or bare LF anywhere in the head;
 * leading empty lines are skipped (RFC 9112 §2.2, at most a few); a field name that is
 * not a token or whitespace before the colon; obs-fold; a value with CTLs other than
 * HTAB (NUL, CR, LF, DEL); message-length problems (RFC 9112 §6.1–6.3): Content-Length
 * and Transfer-Encoding together, Content-Length repeated (even identical, also as a
 * list `5, 5`), not 1*DIGIT or above 2^53-1; Transfer-Encoding empty, in HTTP/1.0, or
 * whose last coding is not `chunked`, or that lists `chunked` twice; Host missing in
 * HTTP/1.1, repeated, invalid (RFC 9110 §7.2: uri-host [":" port]), or differing
 * (case-insensitively) from an absolute-form target's authority.
 */
export function parseRequestHead(buf: Buffer, start: number, end: number, limits: HeadLimits, out: RequestHead): number {
  // Never read outside the Buffer, whatever the caller passes: a refusal, not a throw.
  if (end > buf.length) end = buf.length;
  if (start < 0) start = 0;
  const lim = end - start > limits.maxHeadBytes ? start + limits.maxHeadBytes : end;
  const p = requestHead(buf, start, lim, limits, out);
  return finish(p, start, end, limits, out);
}

/**
 * Parses one response head from buf[start, end), for a request whose method was HEAD
 * when `headRequest`. Same return convention as parseRequestHead; every refusal is a 502
 * for the proxy (status line not `HTTP/1.x DDD reason`, bad fields, obs-fold,
 * Content-Length with Transfer-Encoding, Content-Length repeated or malformed).
 * Framing (RFC 9112 §6.3): 1xx, 204, 304 and any answer to HEAD: 'none' (whatever
 * Content-Length says); Transfer-Encoding whose last coding is chunked: 'chunked'; other
 * Transfer-Encoding: 'close'; Content-Length: 'length'; otherwise 'close'.
 */
export function parseResponseHead(buf: Buffer, start: number, end: number, headRequest: boolean, limits: HeadLimits, out: ResponseHead): number {
  // Never read outside the Buffer, whatever the caller passes: a refusal, not a throw.
  if (end > buf.length) end = buf.length;
  if (start < 0) start = 0;
  const lim = end - start > limits.maxHeadBytes ? start + limits.maxHeadBytes : end;
  const p = responseHead(buf, start, lim, headRequest, limits, out);
  return finish(p, start, end, limits, out);
}

function finish(p: number, start: number, end: number, limits: HeadLimits, out: HeadFields): number {
  if (p === NEED_MORE) {
    // Incomplete within the limit: either more bytes may complete it, or it cannot fit.
    return end - start >= limits.maxHeadBytes ? fail(out, 'H1_HEAD_TOO_LARGE', 'head too large') : 0;
  }
  if (p > 0) out.headBytes = p - start;
  return p;
}

// RFC 9112 §2.2 asks servers to skip at least one empty line before a request; a stream of them is not a request.
const MAX_LEADING_EMPTY_LINES = 4;
/** Longer than any method in KNOWN_METHODS. */
const MAX_METHOD_LENGTH = 32;

function requestHead(buf: Buffer, start: number, lim: number, limits: HeadLimits, out: RequestHead): number {
  let p = start;
  let c = 0;
  for (let blank = 0; p < lim && buf[p] === CR; blank++) {
    if (p + 1 >= lim) return NEED_MORE;
    if (buf[p + 1] !== LF) return fail(out, 'H1_BAD_LINE_ENDING', 'bare CR in the head');
    if (blank === MAX_LEADING_EMPTY_LINES) return fail(out, 'H1_BAD_REQUEST_LINE', 'too many empty lines before the request line');
    p += 2;
  }
  // method SP
  const ms = p;
  while (p < lim && TOKEN[buf[p] as number] === 1) p++;
  // No method rustlb relays is this long: refused at once, not after a whole head's worth (431).
  if (p - ms > MAX_METHOD_LENGTH) return fail(out, 'H1_BAD_METHOD', 'method too long');
  if (p >= lim) return NEED_MORE;
  c = buf[p] as number;
  if (c !== SP) {
    if (c === LF) return fail(out, 'H1_BAD_LINE_ENDING', 'bare LF in the head');
    if (p === ms || c === CR) return fail(out, 'H1_BAD_REQUEST_LINE', 'malformed request line');
    return fail(out, 'H1_BAD_METHOD', 'invalid method');
  }
  if (p === ms) return fail(out, 'H1_BAD_REQUEST_LINE', 'malformed request line');
  const me = p++;
  // request-target SP
  const ts = p;
  let fragment = false;
  for (;;) {
    while (p < lim && TARGET[buf[p] as number] === 1) p++;
    if (p >= lim) return NEED_MORE;
    c = buf[p] as number;
    if (c !== 0x23) break;
    fragment = true;
    p++;
  }
  const te = p;
  if (te === ts) return fail(out, 'H1_BAD_REQUEST_LINE', c === SP ? 'more than one space in the request line' : 'no request target');
  let minor = -1;
  if (c === SP) {
    p++;
    // HTTP-version CRLF
    const vs = p;
    while (p < lim && buf[p] !== CR && buf[p] !== LF && p - vs < 16) p++;
    if (p >= lim) return NEED_MORE;
    c = buf[p] as number;
    if (c === LF) return fail(out, 'H1_BAD_LINE_ENDING', 'bare LF in the head');
    if (c !== CR) return fail(out, 'H1_BAD_VERSION', 'malformed HTTP version');
    if (p + 1 >= lim) return NEED_MORE;
    if (buf[p + 1] !== LF) return fail(out, 'H1_BAD_LINE_ENDING', 'bare CR in the head');
    minor = version(buf, vs, p);
    if (minor === -1) return fail(out, 'H1_BAD_VERSION', 'malformed HTTP version');
  } else if (c === CR) {
    if (p + 1 >= lim) return NEED_MORE;
    if (buf[p + 1] !== LF) return fail(out, 'H1_BAD_LINE_ENDING', 'bare CR in the head');
    // No version: an HTTP/0.9 request line, judged below once its target is.
  } else if (c === LF) return fail(out, 'H1_BAD_LINE_ENDING', 'bare LF in the head');
  else return fail(out, 'H1_BAD_TARGET', 'invalid character in the request target');
  p += 2;
  const method = methodName(buf, ms, me);
  out.method = method;
  if (method === 'CONNECT') return fail(out, 'H1_CONNECT', 'CONNECT is not supported');
  if (!KNOWN_METHODS.has(method)) return fail(out, 'H1_BAD_METHOD', 'unknown method');
  const first = buf[ts] as number;
  let schemeLength = 0;
  if (first === 0x2a /* * */ && te - ts === 1) {
    if (method !== 'OPTIONS') return fail(out, 'H1_ASTERISK_NOT_OPTIONS', 'asterisk-form is only for OPTIONS');
  } else if (first !== 0x2f /* / */) {
    schemeLength = absolutePrefix(buf, ts, te);
    if (schemeLength === 0) return fail(out, 'H1_BAD_TARGET', 'invalid request target');
  }
  if (fragment) return fail(out, 'H1_FRAGMENT', 'fragment in the request target');
  // A request line without a version is HTTP/0.9's: not a request of any version spoken here (400, as nginx).
  if (minor < 0) return fail(out, 'H1_BAD_REQUEST_LINE', 'no HTTP version (HTTP/0.9 request line)');
  if (minor > 1) return fail(out, 'H1_VERSION_NOT_SUPPORTED', 'HTTP version not supported');
  out.versionMinor = minor;
  const s = scan;
  s.reset();
  p = parseFields(buf, p, lim, limits, out, s, true);
  if (p < 0) return p;
  if (requestFraming(out, s) < 0) return -1;
  const text = latin1(buf, ts, p);
  out.target = text.slice(0, te - ts);
  fieldStrings(text, ts, out, s, true);
  if (checkHost(out, s.hosts) < 0 || checkTarget(out, schemeLength) < 0) return -1;
  return p;
}

/** `HTTP/d.d` in buf[vs, ve): the minor digit for 1.0 / 1.1, 2 for another well-formed version, -1 when malformed. */
function version(buf: Buffer, vs: number, ve: number): number {
  if (ve - vs !== 8) return -1;
  if (buf[vs] !== 0x48 || buf[vs + 1] !== 0x54 || buf[vs + 2] !== 0x54 || buf[vs + 3] !== 0x50 || buf[vs + 4] !== 0x2f) return -1;
  const major = (buf[vs + 5] as number) - 0x30;
  const minor = (buf[vs + 7] as number) - 0x30;
  if (major < 0 || major > 9 || buf[vs + 6] !== 0x2e || minor < 0 || minor > 9) return -1;
  return major === 1 && minor <= 1 ? minor : 2;
}

/** The method as a string; the common ones without an allocation. */
function methodName(buf: Buffer, ms: number, me: number): string {
  const n = me - ms;
  const c = buf[ms];
  if (n === 3) {
    if (c === 0x47 && buf[ms + 1] === 0x45 && buf[ms + 2] === 0x54) return 'GET';
    if (c === 0x50 && buf[ms + 1] === 0x55 && buf[ms + 2] === 0x54) return 'PUT';
  } else if (n === 4) {
    if (c === 0x50 && buf[ms + 1] === 0x4f && buf[ms + 2] === 0x53 && buf[ms + 3] === 0x54) return 'POST';
    if (c === 0x48 && buf[ms + 1] === 0x45 && buf[ms + 2] === 0x41 && buf[ms + 3] === 0x44) return 'HEAD';
  }
  return latin1(buf, ms, me);
}

function responseHead(buf: Buffer, start: number, lim: number, headRequest: boolean, limits: HeadLimits, out: ResponseHead): number {
  // HTTP-version SP 3DIGIT [SP reason-phrase] CRLF; the SP before an empty reason is often left out, and harmless.
  let p = start;
  if (lim - p < 12) return startsLikeStatusLine(buf, p, lim) ? NEED_MORE : fail(out, 'H1_BAD_STATUS_LINE', 'malformed status line');
  const minor = version(buf, p, p + 8);
  if (minor !== 0 && minor !== 1) return fail(out, 'H1_BAD_STATUS_LINE', 'malformed status line');
  const d0 = (buf[p + 9] as number) - 0x30;
  const d1 = (buf[p + 10] as number) - 0x30;
  const d2 = (buf[p + 11] as number) - 0x30;
  if (buf[p + 8] !== SP || d0 < 1 || d0 > 9 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) return fail(out, 'H1_BAD_STATUS_LINE', 'malformed status line');
  p += 12;
  if (p >= lim) return NEED_MORE;
  let c = buf[p] as number;
  let rs = p;
  if (c === SP) {
    rs = ++p;
    while (p < lim && VALUE[buf[p] as number] === 1) p++;
    if (p >= lim) return NEED_MORE;
    c = buf[p] as number;
  }
  if (c !== CR) return fail(out, c === LF ? 'H1_BAD_LINE_ENDING' : 'H1_BAD_STATUS_LINE', 'malformed status line');
  if (p + 1 >= lim) return NEED_MORE;
  if (buf[p + 1] !== LF) return fail(out, 'H1_BAD_LINE_ENDING', 'bare CR in the head');
  out.versionMinor = minor;
  out.status = d0 * 100 + d1 * 10 + d2;
  let re = p;
  while (re > rs && (buf[re - 1] === SP || buf[re - 1] === HTAB)) re--;
  const s = scan;
  s.reset();
  p = parseFields(buf, p + 2, lim, limits, out, s, false);
  if (p < 0) return p;
  if (responseFraming(out, s, headRequest) < 0) return -1;
  const text = latin1(buf, rs, p);
  out.reason = re === rs ? '' : text.slice(0, re - rs);
  fieldStrings(text, rs, out, s, false);
  return p;
}

const STATUS_PREFIX = 'HTTP/1.';

/** The bytes so far could begin a valid status line (so waiting for more makes sense). */
function startsLikeStatusLine(buf: Buffer, p: number, lim: number): boolean {
  for (let i = 0; p + i < lim; i++) {
    const c = buf[p + i] as number;
    if (i < 7) {
      if (c !== STATUS_PREFIX.charCodeAt(i)) return false;
    } else if (i === 8) {
      if (c !== SP) return false;
    } else if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}
