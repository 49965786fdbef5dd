import type { HeadFields } from './head.js';
import type { FieldScan } from './scan.js';
import { fail } from './scan.js';
import { bytesEqualLower, HTAB, latin1, SP, TOKEN } from './tables.js';

// Interpreters of the values the parser acts on, straight from the bytes (OWS already
// trimmed): [start, end). Each returns 0, or -1 with out.error set.

const MAX_LENGTH = Number.MAX_SAFE_INTEGER;

/** Content-Length (RFC 9112 §6.3): exactly one, 1*DIGIT, no list (not even `5, 5`). */
export function contentLength(buf: Buffer, start: number, end: number, out: HeadFields, s: FieldScan): number {
  if (++s.contentLengths > 1) return fail(out, 'H1_BAD_CONTENT_LENGTH', 'more than one Content-Length');
  if (start === end) return fail(out, 'H1_BAD_CONTENT_LENGTH', 'empty Content-Length');
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = (buf[i] as number) - 0x30;
    if (d < 0 || d > 9) return fail(out, 'H1_BAD_CONTENT_LENGTH', 'Content-Length is not a number');
    n = n * 10 + d;
    if (n > MAX_LENGTH) return fail(out, 'H1_BAD_CONTENT_LENGTH', 'Content-Length too large');
  }
  out.contentLength = n;
  return 0;
}

const isOws = (c: number): boolean => c === SP || c === HTAB;

/**
 * Transfer-Encoding: a list of codings (token *( OWS ";" OWS param )); notes how many,
 * whether chunked was listed (chunked takes no parameters) and whether it came last.
 * Empty elements are refused: `, chunked` and `chunked,` are spellings other parsers
 * disagree on.
 */
export function transferEncoding(buf: Buffer, start: number, end: number, out: HeadFields, s: FieldScan): number {
  s.transferEncodings++;
  let p = start;
  while (p < end) {
    const ts = p;
    while (p < end && TOKEN[buf[p] as number] === 1) p++;
    if (p === ts) return fail(out, 'H1_BAD_TRANSFER_ENCODING', 'empty or invalid transfer coding');
    const chunked = bytesEqualLower(buf, ts, p, 'chunked');
    s.codings++;
    s.lastChunked = chunked;
    if (chunked && ++s.chunked > 1) return fail(out, 'H1_BAD_TRANSFER_ENCODING', 'chunked applied twice');
    while (p < end && isOws(buf[p] as number)) p++;
    if (p < end && buf[p] === 0x3b /* ; */) {
      if (chunked) return fail(out, 'H1_BAD_TRANSFER_ENCODING', 'chunked with parameters');
      // Parameters of other codings only matter to the server that decodes them.
      while (p < end && buf[p] !== 0x2c) p++;
    }
    if (p === end) break;
    if (buf[p] !== 0x2c /* , */) return fail(out, 'H1_BAD_TRANSFER_ENCODING', 'invalid transfer coding');
    p++;
    while (p < end && isOws(buf[p] as number)) p++;
    if (p === end) return fail(out, 'H1_BAD_TRANSFER_ENCODING', 'empty transfer coding');
  }
  if (start === end) return fail(out, 'H1_BAD_TRANSFER_ENCODING', 'empty Transfer-Encoding');
  return 0;
}

/** Connection: close / keep-alive / upgrade are noted; other tokens name fields to drop (never Host or Content-Length). */
export function connection(buf: Buffer, start: number, end: number, out: HeadFields, s: FieldScan): void {
  let p = start;
  while (p < end) {
    while (p < end && (isOws(buf[p] as number) || buf[p] === 0x2c)) p++;
    const ts = p;
    while (p < end && buf[p] !== 0x2c) p++;
    let te = p;
    while (te > ts && isOws(buf[te - 1] as number)) te--;
    if (te === ts) continue;
    if (bytesEqualLower(buf, ts, te, 'close')) s.closeToken = true;
    else if (bytesEqualLower(buf, ts, te, 'keep-alive')) s.keepAlive = true;
    else if (bytesEqualLower(buf, ts, te, 'upgrade')) out.connectionUpgrade = true;
    else {
      const token = latin1(buf, ts, te).toLowerCase();
      if (token === 'host' || token === 'content-length') continue;
      if (out.connectionTokens === null) out.connectionTokens = [token];
      else if (!out.connectionTokens.includes(token)) out.connectionTokens.push(token);
    }
  }
}
