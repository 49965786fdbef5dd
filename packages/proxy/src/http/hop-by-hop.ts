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

const lowerCache = new Map<string, string>();

/**
 * Lower-cases a header name, remembering the answer: clients send the same few
 * spellings over and over, so the hot path rarely allocates.
 */
export function lowerName(name: string): string {
  let lower = lowerCache.get(name);
  if (lower === undefined) {
    lower = name.toLowerCase();
    if (lowerCache.size < 2048) lowerCache.set(name, lower);
  }
  return lower;
}

/** The field names a Connection header lists (lower-cased), or null when there is none. */
export function connectionTokens(values: readonly string[]): Set<string> | null {
  if (values.length === 0) return null;
  const out = new Set<string>();
  for (const v of values) {
    for (const t of v.split(',')) {
      const token = t.trim().toLowerCase();
      if (token !== '') out.add(token);
    }
  }
  return out;
}
