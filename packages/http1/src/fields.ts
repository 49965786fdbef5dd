import type { HeadFields, HeadLimits } from './head.js';
import {
  KIND_CONNECTION,
  KIND_CONTENT_LENGTH,
  KIND_EXPECT,
  KIND_HOST,
  KIND_OTHER,
  KIND_TRANSFER_ENCODING,
  KIND_UPGRADE,
  type NameEntry,
  nameEntry,
} from './names.js';
import type { FieldScan } from './scan.js';
import { addField, fail, NEED_MORE } from './scan.js';
import { bytesEqualLower, CR, HTAB, LF, SP, TOKEN, VALUE } from './tables.js';
import { connection, contentLength, transferEncoding } from './values.js';

/**
 * The field section from `p` (just past the start line) to its blank line, within `lim`.
 * Returns the offset past the blank line, NEED_MORE, or -1 (out.error set).
 * `request` enables Host and Expect, which only mean something in requests.
 */
export function parseFields(buf: Buffer, p: number, lim: number, limits: HeadLimits, out: HeadFields, s: FieldScan, request: boolean): number {
  for (;;) {
    if (p >= lim) return NEED_MORE;
    let c = buf[p] as number;
    if (c === CR) {
      if (p + 1 >= lim) return NEED_MORE;
      if (buf[p + 1] !== LF) return fail(out, 'H1_BAD_LINE_ENDING', 'bare CR in the head');
      return p + 2;
    }
    if (c === SP || c === HTAB) {
      if (s.count === 0) return fail(out, 'H1_BAD_HEADER_NAME', 'whitespace before the first header field');
      return fail(out, 'H1_OBS_FOLD', 'obs-fold (a header line starting with whitespace)');
    }
    if (s.count >= limits.maxHeaders) return fail(out, 'H1_TOO_MANY_HEADERS', 'too many header fields');
    const ns = p;
    let hash = 0;
    while (TOKEN[c] === 1) {
      hash = (Math.imul(hash, 31) + c) | 0;
      if (++p >= lim) return NEED_MORE;
      c = buf[p] as number;
    }
    if (c !== 0x3a /* : */) {
      if (c === LF) return fail(out, 'H1_BAD_LINE_ENDING', 'bare LF in the head');
      if (c === SP || c === HTAB) return fail(out, 'H1_BAD_HEADER_NAME', 'whitespace before the colon');
      if (c === CR) return fail(out, 'H1_BAD_HEADER_NAME', 'header line without a colon');
      return fail(out, 'H1_BAD_HEADER_NAME', p === ns ? 'empty header field name' : 'invalid header field name');
    }
    if (p === ns) return fail(out, 'H1_BAD_HEADER_NAME', 'empty header field name');
    const ne = p++;
    while (p < lim && (buf[p] === SP || buf[p] === HTAB)) p++;
    const vs = p;
    while (p < lim && VALUE[buf[p] as number] === 1) p++;
    if (p >= lim) return NEED_MORE;
    c = buf[p] as number;
    let ve = p;
    while (ve > vs && (buf[ve - 1] === SP || buf[ve - 1] === HTAB)) ve--;
    if (c === CR) {
      if (p + 1 >= lim) return NEED_MORE;
      if (buf[p + 1] !== LF) return fail(out, 'H1_BAD_LINE_ENDING', 'bare CR in the head');
    } else if (c === LF) return fail(out, 'H1_BAD_LINE_ENDING', 'bare LF in the head');
    else return fail(out, 'H1_BAD_HEADER_VALUE', 'control character in a header value');
    p += 2;
    const entry = nameEntry(buf, ns, ne, hash);
    addField(s, entry, vs, ve);
    if (entry.kind !== KIND_OTHER && fieldMeaning(entry.kind, buf, vs, ve, out, s, request) < 0) return -1;
  }
}

/**
 * The strings of the fields scanned, as substrings of `head` (the latin1 text of the
 * buffer from `base`): one copy out of the Buffer for the whole head instead of a native
 * call per string. Sets Host and Upgrade, which keep their values as strings.
 */
export function fieldStrings(head: string, base: number, out: HeadFields, s: FieldScan, request: boolean): void {
  const { names, lower, values } = out;
  const spans = s.spans;
  for (let i = 0; i < s.count; i++) {
    const entry = s.entries[i] as NameEntry;
    const vs = spans[2 * i] as number;
    const ve = spans[2 * i + 1] as number;
    const value = vs === ve ? '' : head.slice(vs - base, ve - base);
    names.push(entry.name);
    lower.push(entry.lower);
    values.push(value);
    if (entry.kind === KIND_UPGRADE) out.upgrade = out.upgrade === null ? value : `${out.upgrade}, ${value}`;
    else if (entry.kind === KIND_HOST && request) (out as HeadFields & { host: string | null }).host = value;
  }
}

/** Acts on a field the parser interprets; <0 when it refuses the head. */
function fieldMeaning(kind: number, buf: Buffer, vs: number, ve: number, out: HeadFields, s: FieldScan, request: boolean): number {
  switch (kind) {
    case KIND_CONTENT_LENGTH:
      return contentLength(buf, vs, ve, out, s);
    case KIND_TRANSFER_ENCODING:
      return transferEncoding(buf, vs, ve, out, s);
    case KIND_CONNECTION:
      connection(buf, vs, ve, out, s);
      return 0;
    case KIND_HOST:
      if (request && ++s.hosts > 1) return fail(out, 'H1_MULTIPLE_HOST', 'more than one Host header');
      return 0;
    case KIND_EXPECT:
      if (request && bytesEqualLower(buf, vs, ve, '100-continue')) (out as HeadFields & { expectContinue: boolean }).expectContinue = true;
      return 0;
    default:
      return 0;
  }
}
