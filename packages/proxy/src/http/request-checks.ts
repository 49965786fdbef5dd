import type { IncomingMessage } from 'node:http';

/**
 * Checks Node's parser leaves to us (it rejects CL+TE, bad chunk sizes, obs-fold, bare
 * LF, whitespace before the colon and oversized heads by itself): Host (missing,
 * repeated, invalid, disagreeing with an absolute-form target), request targets (their
 * form, a fragment), Transfer-Encoding that is empty or in HTTP/1.0. Returns why the
 * request is refused, or null. Nothing of a refused request reaches a backend.
 */
export function requestProblem(req: IncomingMessage): string | null {
  const raw = req.rawHeaders;
  let hosts = 0;
  let host = '';
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === 4 && (name === 'Host' || name === 'host' || name.toLowerCase() === 'host')) {
      hosts++;
      host = raw[i + 1] as string;
    } else if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') {
      if ((raw[i + 1] as string).trim() === '') return 'empty Transfer-Encoding';
      // RFC 9112 §6.1: in HTTP/1.0 the framing is faulty.
      if (req.httpVersionMinor === 0) return 'Transfer-Encoding in HTTP/1.0';
    }
  }
  // Node keeps the first of two Host headers and says nothing: an ambiguity a backend may read the other way.
  if (hosts > 1) return 'more than one Host header';
  if (hosts === 1 && !validHost(host)) return 'invalid Host header';
  if (hosts === 0 && req.httpVersionMinor === 1 && req.httpVersionMajor === 1) return 'missing Host header';
  const url = req.url ?? '';
  // RFC 9112 §3.2: no request-target form has a fragment (clients strip it); HAProxy refuses
  // one too, rather than leave each backend to decide what `#` means.
  if (url.includes('#')) return 'fragment in the request target';
  if (url.charCodeAt(0) !== 47 /* / */) {
    if (url === '*') {
      if (req.method !== 'OPTIONS') return 'asterisk-form is only for OPTIONS';
    } else if (!url.startsWith('http://') && !url.startsWith('https://')) {
      return 'invalid request target';
    } else if (hosts === 1 && authorityOf(url).toLowerCase() !== host.toLowerCase()) {
      // RFC 9112 §3.2.2 makes the target's authority the Host; two different ones are ambiguous.
      return 'Host does not match the absolute-form target';
    }
  }
  return null;
}

function authorityOf(url: string): string {
  const start = url.indexOf('//') + 2;
  let end = start;
  while (end < url.length && url[end] !== '/' && url[end] !== '?' && url[end] !== '#') end++;
  return url.slice(start, end);
}

// RFC 9110 §7.2: uri-host [ ":" port ]; uri-host = IP-literal / IPv4address / reg-name.
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+)(?::\d{0,5})?$/;

export function validHost(value: string): boolean {
  return value.length > 0 && value.length <= 255 && HOST.test(value);
}

/** Idempotent methods (RFC 9110 §9.2.2): safe to send again after a failure. */
export const IDEMPOTENT: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** True when the request carries a body (a length above zero, or chunked). */
export function hasBody(req: IncomingMessage): boolean {
  const cl = req.headers['content-length'];
  if (cl !== undefined) return cl !== '0';
  return req.headers['transfer-encoding'] !== undefined;
}
