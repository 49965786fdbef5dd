// Byte classes as lookup tables: one load per byte in the hot loops, no regex, no charCodeAt.

function table(pred: (c: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let c = 0; c < 256; c++) t[c] = pred(c) ? 1 : 0;
  return t;
}

const isAlnum = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);

/** tchar (RFC 9110 §5.6.2). */
export const TOKEN = table((c) => isAlnum(c) || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(c)));

/** field-vchar, SP and HTAB (RFC 9110 §5.5): everything but CTLs (HTAB aside) and DEL; obs-text allowed. */
export const VALUE = table((c) => c === 0x09 || (c >= 0x20 && c !== 0x7f));

/**
 * Request-target bytes: visible ASCII. 2 marks `#`, which no target form may carry, so the
 * scan stops on it without a second comparison per byte.
 */
export const TARGET = (() => {
  const t = table((c) => c > 0x20 && c < 0x7f);
  t[0x23] = 2;
  return t;
})();

/** Hex digit values plus one (0 = not a hex digit). */
export const HEX = (() => {
  const t = new Uint8Array(256);
  for (let c = 0; c < 256; c++) {
    if (c >= 0x30 && c <= 0x39) t[c] = c - 0x30 + 1;
    else if (c >= 0x41 && c <= 0x46) t[c] = c - 0x41 + 11;
    else if (c >= 0x61 && c <= 0x66) t[c] = c - 0x61 + 11;
  }
  return t;
})();

export const CR = 0x0d;
export const LF = 0x0a;
export const SP = 0x20;
export const HTAB = 0x09;

type Latin1 = { latin1Slice(start: number, end: number): string };

/** The bytes as a latin1 string: Buffer's own fast path (toString adds argument checks). */
export function latin1(buf: Buffer, start: number, end: number): string {
  return (buf as unknown as Latin1).latin1Slice(start, end);
}

/** buf[start, end) equals the lower-case ASCII `lower`, ignoring case. */
export function bytesEqualLower(buf: Buffer, start: number, end: number, lower: string): boolean {
  if (end - start !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    let c = buf[start + i] as number;
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}
