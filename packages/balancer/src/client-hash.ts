import { hash32, mix32 } from './hash.js';

/** Scratch space for one IPv6 address; every call fills it before reading it. */
const groups = new Uint16Array(8);

/**
 * The hash ip_hash places a client at, computed from the address, not its spelling, so
 * one client lands on the same server whatever text reaches the balancer: an IPv4
 * address hashes its 32 bits; an IPv4-mapped IPv6 address (`::ffff:1.2.3.4`, what a
 * dual-stack listener reports for an IPv4 client, in any spelling) hashes exactly like
 * the IPv4 address it carries; any other IPv6 address hashes its 128 bits (case,
 * zero-compression and a `%zone` make no difference). Text that is not an address is
 * hashed as text: it still maps to one server. Parsed by hand, without allocating:
 * this runs for every request.
 */
export function clientHash(ip: string): number {
  const v4 = parseIpv4(ip, 0, ip.length);
  if (v4 >= 0) return mix32(v4);
  if (!parseIpv6(ip)) return hash32(ip);
  if (groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0 && groups[5] === 0xffff) {
    return mix32(((groups[6] as number) << 16) | (groups[7] as number));
  }
  let h = 0x811c9dc5;
  for (let i = 0; i < 8; i++) {
    const g = groups[i] as number;
    h = Math.imul(h ^ (g >>> 8), 0x01000193);
    h = Math.imul(h ^ (g & 0xff), 0x01000193);
  }
  return mix32(h);
}

/** Dotted-quad `a.b.c.d` in text[from, to) as an unsigned 32-bit number, or -1. */
function parseIpv4(text: string, from: number, to: number): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return -1;
    } else if (c === 46 /* . */ && digits > 0 && dots < 3) {
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + octet;
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Fills `groups` with the address in `text` (RFC 4291 §2.2 text forms); false when it is not one. */
function parseIpv6(text: string): boolean {
  let end = text.indexOf('%');
  if (end < 0) end = text.length;
  let n = 0;
  /** Where `::` stands, as a group index; -1 when absent. */
  let gap = -1;
  let i = 0;
  if (end >= 2 && text.charCodeAt(0) === 58 && text.charCodeAt(1) === 58) {
    gap = 0;
    i = 2;
  }
  while (i < end) {
    const start = i;
    let value = 0;
    let digits = 0;
    for (; i < end; i++) {
      const d = hexDigit(text.charCodeAt(i));
      if (d < 0) break;
      value = value * 16 + d;
      digits++;
    }
    if (i < end && text.charCodeAt(i) === 46 /* . */) {
      // Dotted IPv4 may only stand for the last 32 bits.
      const v4 = parseIpv4(text, start, end);
      if (v4 < 0 || n > 6) return false;
      groups[n++] = v4 >>> 16;
      groups[n++] = v4 & 0xffff;
      i = end;
      break;
    }
    if (digits === 0 || digits > 4 || n === 8) return false;
    groups[n++] = value;
    if (i === end) break;
    if (text.charCodeAt(i) !== 58 /* : */) return false;
    i++;
    if (i < end && text.charCodeAt(i) === 58) {
      if (gap >= 0) return false;
      gap = n;
      i++;
    } else if (i === end) {
      return false;
    }
  }
  if (gap < 0) return n === 8;
  if (n > 7) return false;
  // Move the groups after `::` to the end and zero the gap.
  const tail = n - gap;
  for (let k = 0; k < tail; k++) groups[7 - k] = groups[n - 1 - k] as number;
  for (let k = gap; k < 8 - tail; k++) groups[k] = 0;
  return true;
}
