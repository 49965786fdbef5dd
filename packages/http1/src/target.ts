import type { RequestHead } from './head.js';
import { fail } from './scan.js';

// RFC 9110 §7.2: uri-host [ ":" port ]; uri-host = IP-literal / IPv4address / reg-name.
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+)(?::\d{0,5})?$/;

export function validHost(value: string): boolean {
  return value.length > 0 && value.length <= 255 && HOST.test(value);
}

const SLASH = 0x2f;

/** Length of an absolute-form scheme prefix (`http://`, `https://`, any case) of the target, or 0. */
export function absolutePrefix(buf: Buffer, ts: number, te: number): number {
  if (te - ts < 7) return 0;
  if (((buf[ts] as number) | 0x20) !== 0x68 || ((buf[ts + 1] as number) | 0x20) !== 0x74) return 0;
  if (((buf[ts + 2] as number) | 0x20) !== 0x74 || ((buf[ts + 3] as number) | 0x20) !== 0x70) return 0;
  let p = ts + 4;
  if (((buf[p] as number) | 0x20) === 0x73) p++;
  if (buf[p] !== 0x3a || buf[p + 1] !== SLASH || buf[p + 2] !== SLASH) return 0;
  return p + 3 - ts;
}

/**
 * The checks on the request-target that need the whole head (§3.2): sets out.path, and
 * for absolute-form compares the authority with Host (§3.2.2). 0, or -1 with out.error.
 */
export function checkTarget(out: RequestHead, schemeLength: number): number {
  const target = out.target;
  if (schemeLength === 0) {
    out.path = target;
    return 0;
  }
  let ae = schemeLength;
  while (ae < target.length) {
    const c = target.charCodeAt(ae);
    if (c === SLASH || c === 0x3f /* ? */) break;
    ae++;
  }
  const authority = target.slice(schemeLength, ae);
  if (!validHost(authority)) return fail(out, 'H1_BAD_TARGET', 'invalid authority in the absolute-form target');
  if (out.host !== null && authority.toLowerCase() !== out.host.toLowerCase())
    return fail(out, 'H1_HOST_MISMATCH', 'Host does not match the absolute-form target');
  out.path = ae === target.length ? '/' : target.charCodeAt(ae) === SLASH ? target.slice(ae) : `/${target.slice(ae)}`;
  return 0;
}

export function checkHost(out: RequestHead, hosts: number): number {
  if (hosts === 1) {
    if (!validHost(out.host as string)) return fail(out, 'H1_BAD_HOST', 'invalid Host header');
  } else if (out.versionMinor === 1) return fail(out, 'H1_MISSING_HOST', 'missing Host header');
  return 0;
}
