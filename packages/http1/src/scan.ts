import type { H1Code } from './errors.js';
import type { HeadFields } from './head.js';
import type { NameEntry } from './names.js';

/** What the field loop learned about framing and routing, for the head's final checks. Reused: parsing is synchronous. */
export class FieldScan {
  contentLengths = 0;
  transferEncodings = 0;
  /** Codings listed across every Transfer-Encoding field. */
  codings = 0;
  chunked = 0;
  lastChunked = false;
  hosts = 0;
  keepAlive = false;
  closeToken = false;
  /** Fields seen: their cached names and value offsets [start, end) in the buffer (strings are made once the head is whole). */
  count = 0;
  readonly entries: NameEntry[] = [];
  spans = new Int32Array(256);

  reset(): void {
    this.count = 0;
    this.contentLengths = 0;
    this.transferEncodings = 0;
    this.codings = 0;
    this.chunked = 0;
    this.lastChunked = false;
    this.hosts = 0;
    this.keepAlive = false;
    this.closeToken = false;
  }
}

export const scan = new FieldScan();

export function addField(s: FieldScan, entry: NameEntry, vs: number, ve: number): void {
  const k = s.count++;
  s.entries[k] = entry;
  if (2 * k + 2 > s.spans.length) {
    const bigger = new Int32Array(s.spans.length * 2);
    bigger.set(s.spans);
    s.spans = bigger;
  }
  s.spans[2 * k] = vs;
  s.spans[2 * k + 1] = ve;
}

/** Parse results below zero: -1 refused (out.error set), NEED_MORE while the head is incomplete. */
export const NEED_MORE = -2;

export function fail(out: HeadFields, code: H1Code, detail: string): -1 {
  out.error = code;
  out.errorDetail = detail;
  return -1;
}
