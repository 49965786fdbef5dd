import type { RequestHead, ResponseHead } from './head.js';
import type { FieldScan } from './scan.js';
import { fail } from './scan.js';

// The message-length rules of RFC 9112 §6.1–6.3, in one place. Each returns 0, or -1 with out.error set.

export function requestFraming(out: RequestHead, s: FieldScan): number {
  if (s.transferEncodings > 0) {
    if (s.contentLengths > 0) return fail(out, 'H1_CL_AND_TE', 'Content-Length with Transfer-Encoding');
    // §6.1: in HTTP/1.0 the framing is faulty whatever it says.
    if (out.versionMinor === 0) return fail(out, 'H1_TE_IN_HTTP10', 'Transfer-Encoding in HTTP/1.0');
    // §6.3 item 4: a request whose last coding is not chunked has no reliable length.
    if (!s.lastChunked) return fail(out, 'H1_BAD_TRANSFER_ENCODING', 'Transfer-Encoding not ending in chunked');
    out.bodyKind = 'chunked';
  } else if (s.contentLengths > 0) out.bodyKind = 'length';
  else out.bodyKind = 'none';
  out.close = connectionCloses(out, s);
  return 0;
}

export function responseFraming(out: ResponseHead, s: FieldScan, headRequest: boolean): number {
  if (s.transferEncodings > 0) {
    if (s.contentLengths > 0) return fail(out, 'H1_CL_AND_TE', 'Content-Length with Transfer-Encoding');
    if (out.versionMinor === 0) return fail(out, 'H1_TE_IN_HTTP10', 'Transfer-Encoding in HTTP/1.0');
  }
  const status = out.status;
  if (headRequest || status < 200 || status === 204 || status === 304) out.bodyKind = 'none';
  else if (s.transferEncodings > 0) out.bodyKind = s.lastChunked ? 'chunked' : 'close';
  else if (s.contentLengths > 0) out.bodyKind = 'length';
  else out.bodyKind = 'close';
  out.close = connectionCloses(out, s);
  return 0;
}

function connectionCloses(out: RequestHead | ResponseHead, s: FieldScan): boolean {
  return s.closeToken || (out.versionMinor === 0 && !s.keepAlive);
}
