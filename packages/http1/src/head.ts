import type { H1Code } from './errors.js';

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
 * with no version (HTTP/0.9), is H1_VERSION_NOT_SUPPORTED 505; a malformed version 400);
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
  void buf;
  void start;
  void end;
  void limits;
  void out;
  throw new Error('not implemented');
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
  void buf;
  void start;
  void end;
  void headRequest;
  void limits;
  void out;
  throw new Error('not implemented');
}
