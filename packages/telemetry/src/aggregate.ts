import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue, type Registry } from 'prom-client';

export type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

/**
 * Merges metric snapshots (the primary's own, every live worker's, and what dead
 * workers last reported) into one registry: counters and histograms add up, gauges
 * follow each metric's `aggregator` (sum by default).
 */
export function mergeSnapshots(snapshots: readonly MetricsJson[]): Registry {
  return AggregatorRegistry.aggregate(snapshots as MetricsJson[]);
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

/** Folds `snapshot` into an accumulated snapshot of retired workers. */
export async function accumulate(retired: MetricsJson, snapshot: MetricsJson): Promise<MetricsJson> {
  if (snapshot.length === 0) return retired;
  const merged = mergeSnapshots([retired, retainable(snapshot)]);
  return (await merged.getMetricsAsJSON()) as MetricsJson;
}
