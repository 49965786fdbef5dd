import { isIP } from 'node:net';
import type { HostPort } from './config-types.js';

/**
 * Parses `host:port`, `[v6]:port` or `v4:port`. Returns null when malformed: no port,
 * a port outside 1..65535 (0 is allowed only with `allowZero`), an unbracketed IPv6
 * address, or an empty host.
 */
export function parseHostPort(text: string, allowZero = false): HostPort | null {
  let host: string;
  let portText: string;
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    if (end < 0 || text[end + 1] !== ':') return null;
    host = text.slice(1, end);
    portText = text.slice(end + 2);
    if (isIP(host) !== 6) return null;
  } else {
    const colon = text.lastIndexOf(':');
    if (colon <= 0) return null;
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
    if (host.includes(':')) return null;
    if (!isIP(host) && !isHostname(host)) return null;
  }
  if (!/^\d{1,5}$/.test(portText)) return null;
  const port = Number(portText);
  if (port > 65535 || (port === 0 && !allowZero)) return null;
  return { host, port };
}

const LABEL = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/i;

const DIGITS = /^[0-9]+$/;

/**
 * An RFC 1123 host name (underscores tolerated, as resolvers do for SRV-style names).
 * The last label is never all digits (RFC 3696 §2: no top-level domain is): `256.1.1.1`
 * or `10.0.0` is a mistyped IPv4 address, not a name to look up.
 */
export function isHostname(host: string): boolean {
  if (host.length === 0 || host.length > 253) return false;
  const labels = host.endsWith('.') ? host.slice(0, -1).split('.') : host.split('.');
  return labels.every((l) => LABEL.test(l)) && !DIGITS.test(labels[labels.length - 1] as string);
}

/** Looks like a dotted IPv4 address (digits and dots only) without being a valid one. */
export function isBadIpv4(host: string): boolean {
  return /^[0-9.]+$/.test(host) && host.includes('.') && isIP(host) !== 4;
}

/** `host:port`, bracketing IPv6 literals. */
export function formatHostPort(hp: HostPort): string {
  return isIP(hp.host) === 6 ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
}

/**
 * The client address as operators expect to see it: an IPv4-mapped IPv6 address
 * (`::ffff:1.2.3.4`, what a dual-stack socket reports) becomes plain IPv4.
 */
export function normalizeIp(ip: string | undefined): string {
  if (ip === undefined) return '';
  if (ip.length > 7 && ip.charCodeAt(0) === 58 /* : */ && ip.startsWith('::ffff:') && ip.includes('.')) {
    return ip.slice(7);
  }
  return ip;
}
