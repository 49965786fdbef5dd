import type { H1Code } from './errors.js';
import type { HeadFields } from './head.js';

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

  reset(): void {
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

/** Parse results below zero: -1 refused (out.error set), NEED_MORE while the head is incomplete. */
export const NEED_MORE = -2;

export function fail(out: HeadFields, code: H1Code, detail: string): -1 {
  out.error = code;
  out.errorDetail = detail;
  return -1;
}
