/**
 * The text ip_hash hashes for a client address, so every spelling of one address lands
 * on the same server: IPv4 as it is; an IPv4-mapped IPv6 address (`::ffff:1.2.3.4`,
 * what a dual-stack listener reports for an IPv4 client, in any spelling) as the IPv4
 * address it carries, so a client keeps its server whichever listener it reaches; any
 * other IPv6 address as its eight groups, uncompressed, lower case, without a zone.
 * Text that is not an address is hashed as it is: it still maps to one server.
 */
export function clientKey(ip: string): string {
  // IPv4, the common case, costs one scan.
  if (ip.indexOf(':') < 0) return ip;
  const groups = parseIpv6(ip);
  if (groups === null) return ip;
  if (groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0 && groups[5] === 0xffff) {
    const hi = groups[6] as number;
    const lo = groups[7] as number;
    return `${hi >>> 8}.${hi & 0xff}.${lo >>> 8}.${lo & 0xff}`;
  }
  return groups.map((g) => g.toString(16)).join(':');
}

const HEX_GROUP = /^[0-9a-f]{1,4}$/i;
const DOTTED = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** The eight 16-bit groups of an IPv6 address, or null when the text is not one. */
function parseIpv6(text: string): number[] | null {
  const zone = text.indexOf('%');
  const address = zone < 0 ? text : text.slice(0, zone);
  const halves = address.split('::');
  if (halves.length > 2) return null;
  const head = parseGroups(halves[0] as string);
  const tail = halves.length === 2 ? parseGroups(halves[1] as string) : [];
  if (head === null || tail === null) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  return [...head, ...new Array<number>(missing).fill(0), ...tail];
}

function parseGroups(part: string): number[] | null {
  if (part === '') return [];
  const pieces = part.split(':');
  const out: number[] = [];
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i] as string;
    if (HEX_GROUP.test(piece)) {
      out.push(Number.parseInt(piece, 16));
      continue;
    }
    // Dotted IPv4 is allowed only as the last 32 bits.
    const m = i === pieces.length - 1 ? DOTTED.exec(piece) : null;
    if (m === null) return null;
    const octets = [m[1], m[2], m[3], m[4]].map(Number);
    if (octets.some((o) => o > 255)) return null;
    out.push(((octets[0] as number) << 8) | (octets[1] as number), ((octets[2] as number) << 8) | (octets[3] as number));
  }
  return out;
}
