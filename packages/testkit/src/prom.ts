/** One sample of Prometheus text: its series name (with `_bucket`/`_sum`/`_count`), labels and value. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Prometheus text parsed: `# TYPE` of each metric family and every sample. */
export interface Scrape {
  readonly types: ReadonlyMap<string, string>;
  readonly help: ReadonlyMap<string, string>;
  readonly samples: readonly Sample[];
}

export function parseMetrics(text: string): Scrape {
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('# TYPE ')) {
      const [, name, type] = line.split(' ').slice(1);
      types.set(name as string, type as string);
      continue;
    }
    if (line.startsWith('# HELP ')) {
      const rest = line.slice(7);
      const sp = rest.indexOf(' ');
      help.set(rest.slice(0, sp), rest.slice(sp + 1));
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null) throw new Error(`not a Prometheus sample: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1] as string] = l[2] as string;
    const raw = m[3] as string;
    samples.push({ name: m[1] as string, labels, value: raw === '+Inf' ? Number.POSITIVE_INFINITY : raw === '-Inf' ? Number.NEGATIVE_INFINITY : Number(raw) });
  }
  return { types, help, samples };
}

/** A stable key for a series: name and sorted labels. */
export function seriesKey(s: Pick<Sample, 'name' | 'labels'>): string {
  const labels = Object.entries(s.labels)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  return `${s.name}{${labels}}`;
}

/** The metric family a sample belongs to (`x_bucket` → `x` when `x` is a histogram). */
export function familyOf(scrape: Scrape, name: string): string {
  if (scrape.types.has(name)) return name;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (name.endsWith(suffix)) {
      const base = name.slice(0, -suffix.length);
      if (scrape.types.has(base)) return base;
    }
  }
  return name;
}

/** Every sample of a counter or histogram family, by series key (the values that must never go down). */
export function monotonicSeries(scrape: Scrape): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of scrape.samples) {
    const type = scrape.types.get(familyOf(scrape, s.name));
    if (type === 'counter' || type === 'histogram') out.set(seriesKey(s), s.value);
  }
  return out;
}

/** Samples of one series name whose labels include `labels`. */
export function samplesOf(scrape: Scrape, name: string, labels: Record<string, string> = {}): Sample[] {
  return scrape.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}
