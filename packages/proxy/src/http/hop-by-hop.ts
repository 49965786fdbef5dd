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

/**
 * Fields a Connection header may name but that are never removed for it: the request's
 * Host and its framing (RFC 9110 §7.6.1 is about hop-by-hop fields; removing these would
 * change the request's target or body, as Go's reverse proxy also refuses to).
 */
const NEVER_NAMED: ReadonlySet<string> = new Set(['host', 'content-length']);

/**
 * The field names a Connection header value lists (lower-cased, joined lines as Node
 * gives them), or null when it names none besides the connection options themselves:
 * the common `keep-alive` and `close` cost no allocation.
 */
export function connectionTokens(value: string | undefined): Set<string> | null {
  if (value === undefined) return null;
  if (value.length <= 10) {
    const v = value.toLowerCase();
    if (v === 'keep-alive' || v === 'close' || v === 'upgrade' || v === '') return null;
  }
  let out: Set<string> | null = null;
  for (const t of value.split(',')) {
    const token = t.trim().toLowerCase();
    if (token === '' || NEVER_NAMED.has(token) || HOP_BY_HOP.has(token)) continue;
    out ??= new Set();
    out.add(token);
  }
  return out;
}
