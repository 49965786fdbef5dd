/** What a command prints, and how the process exits. */
export interface Outcome {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr?: string;
}

export const EXIT = { ok: 0, refused: 1, usage: 2, notRunning: 3 } as const;

export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** Fixed-width columns, for the human status. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const r of rows) {
    for (let i = 0; i < r.length; i++) widths[i] = Math.max(widths[i] ?? 0, (r[i] as string).length);
  }
  return rows
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function duration(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return d > 0 ? `${d}d${h}h` : h > 0 ? `${h}h${m}m` : m > 0 ? `${m}m${s}s` : `${s}s`;
}

export function bytes(n: number | null): string {
  if (n === null) return '-';
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)}MiB` : `${Math.round(n / 1024)}KiB`;
}
