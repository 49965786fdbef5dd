/**
 * Hop-by-hop fields (RFC 9110 §7.6.1) plus the ones Go's reverse proxy also drops:
 * they describe one connection and are never forwarded, in either direction.
 */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** `Name: value\r\n` for each pair of a flat [name, value, …] list. */
export function appendFields(out: string, fields: readonly string[]): string {
  for (let i = 0; i + 1 < fields.length; i += 2) out += `${fields[i]}: ${fields[i + 1]}\r\n`;
  return out;
}

/** The size line of a chunk of `size` bytes: `hex\r\n`. */
export function chunkSizeLine(size: number): string {
  return `${size.toString(16)}\r\n`;
}

/** The last chunk with no trailers. */
export const LAST_CHUNK = '0\r\n\r\n';
