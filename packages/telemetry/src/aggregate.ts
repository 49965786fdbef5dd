import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue, type Registry } from 'prom-client';
import { METRIC } from './names.js';

export type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

/**
 * Merges metric snapshots (the primary's own, every live worker's, and what dead
 * workers last reported) into one registry: counters and histograms add up, gauges
 * follow each metric's `aggregator` (sum by default). Synchronous.
 */
export function mergeSnapshots(snapshots: readonly MetricsJson[]): Registry {
  return AggregatorRegistry.aggregate(snapshots as MetricsJson[]);
}

/** Like {@link mergeSnapshots}, as one snapshot again (synchronously: no await between reading and using state). */
export function mergeToJson(snapshots: readonly MetricsJson[]): MetricsJson {
  // The aggregated registry holds the merged objects themselves; their `get()` only hands them back.
  return mergeSnapshots(snapshots)
    .getMetricsAsArray()
    .map((m) => {
      const { name, help, type, values, aggregator } = m as unknown as MetricsJson[number];
      return { name, help, type, values, aggregator } as MetricsJson[number];
    });
}

/**
 * What survives a worker's death: its counters and histograms (so totals never go
 * backwards), not its gauges (its connections are gone).
 */
export function retainable(snapshot: MetricsJson): MetricsJson {
  // prom-client's typings declare a numeric enum; at run time `type` is the text name.
  return snapshot.filter((m) => {
    const type = m.type as unknown as string;
    return type === 'counter' || type === 'histogram';
  });
}

/** Folds a dead worker's last `snapshot` into the accumulated snapshot of retired workers. */
export function accumulate(retired: MetricsJson, snapshot: MetricsJson): MetricsJson {
  const kept = retainable(snapshot);
  if (kept.length === 0) return retired;
  return mergeToJson([retired, kept]);
}

const PER_SERVER: ReadonlySet<string> = new Set([METRIC.serverRequests, METRIC.serverDuration]);

/**
 * `snapshot` without the per-server series of servers `keep` refuses (gone from the
 * configuration): what the workers drop when a server leaves, dropped from what dead
 * workers left too. Returns `snapshot` itself when nothing goes.
 */
export function keepServers(snapshot: MetricsJson, keep: (backend: string, server: string) => boolean): MetricsJson {
  let changed = false;
  const out = snapshot.map((m) => {
    if (!PER_SERVER.has(m.name)) return m;
    const values = m.values.filter((v) => keep(String(v.labels.backend), String(v.labels.server)));
    if (values.length === m.values.length) return m;
    changed = true;
    return { ...m, values };
  });
  return changed ? out : snapshot;
}
