/** Parsing of the human units the configuration uses. */

const DURATION_UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_PART = /(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)/y;

/** `100ms`, `5s`, `1m`, `1h`, `1m30s` (parts may be separated by spaces) → milliseconds. */
export function parseDuration(text: string): number | null {
  const s = text.trim();
  if (s.length === 0) return null;
  let total = 0;
  let at = 0;
  while (at < s.length) {
    if (s[at] === ' ') {
      at++;
      continue;
    }
    DURATION_PART.lastIndex = at;
    const m = DURATION_PART.exec(s);
    if (m === null) return null;
    total += Number(m[1]) * (DURATION_UNITS[m[2] as string] as number);
    at = DURATION_PART.lastIndex;
  }
  return Number.isFinite(total) && total <= 2 ** 31 - 1 ? Math.round(total) : null;
}

const MAX_SIZE = 1 << 30;
const SIZE = /^\s*(\d+)\s*(b|kib|kb|k|mib|mb|m)?\s*$/i;
const SIZE_UNITS: Readonly<Record<string, number>> = { b: 1, k: 1024, kb: 1024, kib: 1024, m: 1 << 20, mb: 1 << 20, mib: 1 << 20 };

/** Bytes as an integer, or `16KiB` / `1MiB` (KB and MB are read as KiB and MiB too). */
export function parseSize(value: string | number): number | null {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value > 0 && value <= MAX_SIZE ? value : null;
  const m = SIZE.exec(value);
  if (m === null) return null;
  const n = Number(m[1]) * (SIZE_UNITS[(m[2] ?? 'b').toLowerCase()] as number);
  return n > 0 && n <= MAX_SIZE ? n : null;
}
