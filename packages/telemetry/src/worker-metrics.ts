import type { MetricsJson } from './aggregate.js';
import { DURATION_BUCKETS, METHODS, METRIC, methodIndex, methodLabel } from './names.js';

/**
 * One number the data plane updates. The hot path touches only this: no label
 * validation, no label hashing, no allocation (prom-client's `labels(...)` children
 * re-validate and re-hash their labels on every `inc`, which is what this avoids).
 */
export class Cell {
  value = 0;

  inc(n = 1): void {
    this.value += n;
  }

  dec(n = 1): void {
    this.value -= n;
  }
}

const HELP = {
  requests: 'Requests answered, by frontend, backend, method and status.',
  duration: 'Time from a request head arriving to the end of its response, in seconds.',
  active: 'Client connections open now (HTTP: under the frontend default backend; TCP: per session).',
  connections: 'Client connections accepted.',
  bytes: 'Bytes read from clients (inbound) and written to clients (outbound).',
} as const;

/** Room for every method index (the standard ones plus OTHER) per status code. */
const METHOD_SLOTS = 16;
if (METHODS.length + 1 > METHOD_SLOTS) throw new Error('METHOD_SLOTS too small');

type Value = MetricsJson[number]['values'][number];

/**
 * The per-request metrics of one worker process: plain numbers held by a
 * {@link MetricsTarget} per (frontend, backend), exported on request as a snapshot in
 * prom-client's JSON shape, which the primary merges with every other worker's
 * (`AggregatorRegistry.aggregate`).
 */
export class WorkerMetrics {
  /** Requests answered by this process (for the per-worker count the primary reports); counted even when recording is off. */
  served = 0;
  /**
   * Record per-request metrics (`global.metrics.enabled`). Off, the hot path only counts
   * `served`; nothing is exported.
   */
  enabled = true;
  readonly #targets = new Map<string, MetricsTarget>();
  /** prom-client's registry method the worker answers a collection with. */
  readonly registry = { getMetricsAsJSON: (): Promise<MetricsJson> => Promise.resolve(this.snapshot()) };

  /**
   * The bound metrics of one (frontend, backend) pair, created once when a configuration
   * naming it is applied and kept for the life of the process (counters never restart
   * because a reload rebuilt the tables). Bounded by the configuration, never by traffic.
   */
  target(frontend: string, backend: string): MetricsTarget {
    const key = `${frontend}\n${backend}`;
    let t = this.#targets.get(key);
    if (t === undefined) {
      t = new MetricsTarget(this, frontend, backend);
      this.#targets.set(key, t);
    }
    return t;
  }

  /** Everything recorded so far, in prom-client's `getMetricsAsJSON()` shape. */
  snapshot(): MetricsJson {
    const requests: Value[] = [];
    const duration: Value[] = [];
    const active: Value[] = [];
    const connections: Value[] = [];
    const bytes: Value[] = [];
    if (this.enabled) {
      for (const t of this.#targets.values()) {
        const labels = { frontend: t.frontend, backend: t.backend };
        for (const [id, cell] of t.requestCells()) {
          requests.push({ labels: { ...labels, method: methodLabel(id % METHOD_SLOTS), status: Math.floor(id / METHOD_SLOTS) }, value: cell.value });
        }
        const h = t.histogram;
        // Only pairs that answered requests (a TCP frontend never does).
        if (h.count > 0) {
          let acc = 0;
          for (let i = 0; i < DURATION_BUCKETS.length; i++) {
            acc += h.buckets[i] as number;
            duration.push({ metricName: `${METRIC.duration}_bucket`, labels: { ...labels, le: DURATION_BUCKETS[i] as number }, value: acc } as Value);
          }
          duration.push({ metricName: `${METRIC.duration}_bucket`, labels: { ...labels, le: '+Inf' }, value: h.count } as Value);
          duration.push({ metricName: `${METRIC.duration}_sum`, labels, value: h.sum } as Value);
          duration.push({ metricName: `${METRIC.duration}_count`, labels, value: h.count } as Value);
        }
        active.push({ labels, value: t.active.value });
        connections.push({ labels, value: t.connections.value });
        bytes.push({ labels: { ...labels, direction: 'inbound' }, value: t.bytesIn.value });
        bytes.push({ labels: { ...labels, direction: 'outbound' }, value: t.bytesOut.value });
      }
    }
    return [
      metric(METRIC.requests, HELP.requests, 'counter', requests),
      metric(METRIC.duration, HELP.duration, 'histogram', duration),
      metric(METRIC.activeConnections, HELP.active, 'gauge', active),
      metric(METRIC.connections, HELP.connections, 'counter', connections),
      metric(METRIC.bytes, HELP.bytes, 'counter', bytes),
    ];
  }
}

function metric(name: string, help: string, type: 'counter' | 'gauge' | 'histogram', values: Value[]): MetricsJson[number] {
  // prom-client's typings declare `type` as a numeric enum; at run time it is the text name.
  return { name, help, type, aggregator: 'sum', values } as unknown as MetricsJson[number];
}

/** Counts and sum of one duration histogram; `buckets[i]` counts observations in (bound[i-1], bound[i]]. */
export interface HistogramCells {
  readonly buckets: Float64Array;
  sum: number;
  count: number;
}

/**
 * Everything one (frontend, backend) pair records, bound when the configuration is
 * applied. Per request: one Map lookup by a small integer for the (method, status)
 * counter, a bucket search over 15 bounds, and additions; no strings, no objects.
 */
export class MetricsTarget {
  readonly #metrics: WorkerMetrics;
  readonly frontend: string;
  readonly backend: string;
  /** (status × 16 + method index) → count. Status codes are three digits, methods bounded: the map stays small. */
  readonly #requests = new Map<number, Cell>();
  readonly histogram: HistogramCells = { buckets: new Float64Array(DURATION_BUCKETS.length), sum: 0, count: 0 };
  /** Client connections open now (a gauge). */
  readonly active = new Cell();
  /** Client connections accepted. */
  readonly connections = new Cell();
  readonly bytesIn = new Cell();
  readonly bytesOut = new Cell();

  constructor(metrics: WorkerMetrics, frontend: string, backend: string) {
    this.#metrics = metrics;
    this.frontend = frontend;
    this.backend = backend;
  }

  /** One answered request: `method` as received (unknown ones count as OTHER), `status` the code sent. */
  request(method: string, status: number, seconds: number): void {
    const metrics = this.#metrics;
    metrics.served++;
    if (!metrics.enabled) return;
    const id = status * METHOD_SLOTS + methodIndex(method);
    let cell = this.#requests.get(id);
    if (cell === undefined) {
      cell = new Cell();
      this.#requests.set(id, cell);
    }
    cell.value++;
    const h = this.histogram;
    h.sum += seconds;
    h.count++;
    const bounds = DURATION_BUCKETS;
    let i = 0;
    while (i < bounds.length && seconds > (bounds[i] as number)) i++;
    // Above the last bound: only +Inf (the count) holds it.
    if (i < bounds.length) h.buckets[i] = (h.buckets[i] as number) + 1;
  }

  /** Bytes read from the client (`inbound`) and written to it (`outbound`). */
  bytes(inbound: number, outbound: number): void {
    this.bytesIn.value += inbound;
    this.bytesOut.value += outbound;
  }

  /** @internal The request counters, for the snapshot. */
  requestCells(): IterableIterator<[number, Cell]> {
    return this.#requests.entries();
  }
}
