/** Parsing of the human units the configuration uses. */

/**
 * Milliseconds in one of each unit: every spelling the original rustlb's duration parser
 * (Rust's `humantime` 2) accepts, case-sensitive as there (`M` is a month, `m` a minute),
 * plus `µs`. A month is 30.44 days and a year 365.25 days, as there.
 */
const DURATION_UNITS: Readonly<Record<string, number>> = (() => {
  const table: Record<string, number> = {};
  const add = (ms: number, ...names: string[]) => {
    for (const n of names) table[n] = ms;
  };
  add(1e-6, 'nanos', 'nsec', 'ns');
  add(1e-3, 'usec', 'us', 'µs');
  add(1, 'millis', 'msec', 'ms');
  add(1000, 'seconds', 'second', 'secs', 'sec', 's');
  add(60_000, 'minutes', 'minute', 'mins', 'min', 'm');
  add(3_600_000, 'hours', 'hour', 'hrs', 'hr', 'h');
  add(86_400_000, 'days', 'day', 'd');
  add(604_800_000, 'weeks', 'week', 'w');
  add(2_630_016_000, 'months', 'month', 'M');
  add(31_557_600_000, 'years', 'year', 'y');
  return table;
})();

/** The accepted forms, for error messages and the reference. */
export const DURATION_FORMS =
  'a number and a unit (ns, us, ms, s/sec/secs/second/seconds, m/min/mins/minute/minutes, h/hr/hrs/hour/hours, d/day/days, w/week/weeks, M/month/months, y/year/years), terms combined with or without spaces: 100ms, 1.5s, 10sec, 2 min, 1h 30m';

/** The longest timer Node.js arms (about 24.8 days): longer durations wait this long. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * One term: digits (humantime skips spaces between them too: `1 0s` is 10s; a decimal
 * part is rustlb's own addition), optional spaces, a unit of letters.
 */
const TERM = /\s*(\d(?:[\d\s]*\d)?(?:\.\d+)?)\s*([A-Za-zµ]+)/y;
/** Beyond what the original could hold (u64 seconds): refused, as it refused it. */
const MAX_MS = 2 ** 64 * 1000;

/**
 * A duration → milliseconds (sub-millisecond parts round up to a whole millisecond, so
 * no nonzero duration becomes 0), or null. `100ms`, `5s`, `1m30s`, `1h 30m`, `10sec`,
 * `2 min`, `500us`, `2days`, `1year`: humantime's grammar (terms of a whole number and a
 * unit, spaces allowed around and between them) and rustlb's decimals (`1.5s`). The
 * result may exceed {@link MAX_TIMER_MS}: {@link timerMs} is what timers get.
 */
export function parseDuration(text: string): number | null {
  const s = text.trimEnd();
  let total = 0;
  let at = 0;
  let terms = 0;
  while (at < s.length) {
    TERM.lastIndex = at;
    const m = TERM.exec(s);
    if (m === null) return null;
    const unit = DURATION_UNITS[m[2] as string];
    if (unit === undefined) return null;
    total += Number((m[1] as string).replace(/\s/g, '')) * unit;
    at = TERM.lastIndex;
    terms++;
  }
  if (terms === 0 || !Number.isFinite(total) || total >= MAX_MS) return null;
  // Whole nanoseconds first, so 1.1s is 1100ms and not 1101 by a rounding error.
  return Math.ceil(Math.round(total * 1e6) / 1e6);
}

/** The milliseconds a timer is armed with: the duration, at most {@link MAX_TIMER_MS}. */
export function timerMs(text: string): number | null {
  const ms = parseDuration(text);
  return ms === null ? null : Math.min(ms, MAX_TIMER_MS);
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
