import { isIP } from 'node:net';
import { isBadIpv4, isHostname } from '@rustlb/core';
import { quote } from './problems.js';

const EXPECTED = 'expected host:port, e.g. 127.0.0.1:8080 or [::1]:8080';

/**
 * Why `text` is not a usable `host:port`, in the operator's terms. The schema only
 * knows "invalid format"; the common mistakes (no port, port 0, a bare IPv6 address)
 * each deserve their own sentence.
 */
export function hostPortProblem(text: string): string {
  if (!text.startsWith('[') && (text.match(/:/g) ?? []).length > 1) {
    const colon = text.lastIndexOf(':');
    const host = text.slice(0, colon);
    if (isIP(host) === 6 && /^\d+$/.test(text.slice(colon + 1))) return `an IPv6 address needs brackets: write "[${host}]${text.slice(colon)}"`;
    if (isIP(text) === 6) return `${quote(text)} has no port; an IPv6 address is written in brackets with a port, e.g. [::1]:8080`;
    return `${quote(text)} is not host:port (${EXPECTED})`;
  }
  if (text.startsWith('[') && !text.includes(']:')) return `${quote(text)} has no port (${EXPECTED})`;
  const colon = text.startsWith('[') ? text.indexOf(']:') + 1 : text.lastIndexOf(':');
  const port = colon < 0 ? '' : text.slice(colon + 1);
  if (port === '') return `${quote(text)} has no port (${EXPECTED})`;
  const host = text.startsWith('[') ? text.slice(1, colon - 1) : text.slice(0, colon);
  if (host === '') return `${quote(text)} has no host (use 0.0.0.0 for every IPv4 address, [::] for every IPv6 one)`;
  if (text.startsWith('[') && isIP(host) !== 6) return `${quote(host)} is not an IPv6 address (brackets are for IPv6 addresses only)`;
  if (isBadIpv4(host)) return `${quote(host)} is not an IPv4 address (four numbers from 0 to 255, e.g. 10.0.0.1)`;
  if (isIP(host) === 0 && !isHostname(host)) return `${quote(host)} is not an IP address or host name`;
  if (!/^\d+$/.test(port)) return `port ${quote(port)} is not a number (${EXPECTED})`;
  return `port ${Number(port)} is out of range: use 1-65535`;
}
