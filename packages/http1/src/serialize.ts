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

/**
 * Appends to `out` (a latin1 string being built) every field of names/values that is
 * not hop-by-hop, not named by the head's Connection tokens, and whose lower-case name
 * `drop` does not hold, each as `Name: value\r\n`. Returns the new string.
 */
export function appendKeptFields(
  out: string,
  names: readonly string[],
  lower: readonly string[],
  values: readonly string[],
  connectionTokens: readonly string[] | null,
  drop: ReadonlySet<string>,
): string {
  for (let i = 0; i < names.length; i++) {
    const l = lower[i] as string;
    if (HOP_BY_HOP.has(l) || drop.has(l) || connectionTokens?.includes(l)) continue;
    out += `${names[i]}: ${values[i]}\r\n`;
  }
  return out;
}

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
