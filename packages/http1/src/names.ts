import { latin1 } from './tables.js';

/** Field names the parser acts on, by lower-case name. */
export const KIND_OTHER = 0;
export const KIND_CONTENT_LENGTH = 1;
export const KIND_TRANSFER_ENCODING = 2;
export const KIND_HOST = 3;
export const KIND_CONNECTION = 4;
export const KIND_UPGRADE = 5;
export const KIND_EXPECT = 6;

const KINDS = new Map<string, number>([
  ['content-length', KIND_CONTENT_LENGTH],
  ['transfer-encoding', KIND_TRANSFER_ENCODING],
  ['host', KIND_HOST],
  ['connection', KIND_CONNECTION],
  ['upgrade', KIND_UPGRADE],
  ['expect', KIND_EXPECT],
]);

export class NameEntry {
  constructor(
    readonly name: string,
    readonly lower: string,
    readonly kind: number,
  ) {}
}

// Direct-mapped by a hash of the bytes: a fixed size, so hostile names can only evict, never grow it.
const SLOTS = 1024;
const cache: (NameEntry | undefined)[] = new Array(SLOTS).fill(undefined);

/**
 * The name buf[start, end) (hash: the parser's running hash of those bytes) as a cached
 * entry: a spelling seen before costs no allocation, and its lower-case string is the
 * same object every time.
 */
export function nameEntry(buf: Buffer, start: number, end: number, hash: number): NameEntry {
  const slot = hash & (SLOTS - 1);
  const hit = cache[slot];
  if (hit !== undefined && sameBytes(hit.name, buf, start, end)) return hit;
  const name = latin1(buf, start, end);
  const lower = name.toLowerCase();
  const entry = new NameEntry(name, lower, KINDS.get(lower) ?? KIND_OTHER);
  cache[slot] = entry;
  return entry;
}

function sameBytes(s: string, buf: Buffer, start: number, end: number): boolean {
  if (s.length !== end - start) return false;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) !== buf[start + i]) return false;
  return true;
}
