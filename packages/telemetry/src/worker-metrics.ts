import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DURATION_BUCKETS, METRIC, methodIndex, methodLabel } from './names.js';

type CounterChild = ReturnType<Counter<string>['labels']>;
type GaugeChild = ReturnType<Gauge<string>['labels']>;
type HistogramChild = ReturnType<Histogram<string>['labels']>;

/** The per-request metrics a worker keeps; the primary merges every worker's. */
export class WorkerMetrics {
  readonly registry = new Registry();
  /** Requests answered by this process (for the per-worker count the primary reports). */
  served = 0;
  readonly requests = new Counter({
    name: METRIC.requests,
    help: 'Requests answered, by frontend, backend, method and status.',
    labelNames: ['frontend', 'backend', 'method', 'status'],
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: METRIC.duration,
    help: 'Time from a request head arriving to the end of its response, in seconds.',
    labelNames: ['frontend', 'backend'],
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });
  readonly active = new Gauge({
    name: METRIC.activeConnections,
    help: 'Client connections open now (HTTP: under the frontend default backend; TCP: per session).',
    labelNames: ['frontend', 'backend'],
    registers: [this.registry],
  });
  readonly connections = new Counter({
    name: METRIC.connections,
    help: 'Client connections accepted.',
    labelNames: ['frontend', 'backend'],
    registers: [this.registry],
  });
  readonly bytes = new Counter({
    name: METRIC.bytes,
    help: 'Bytes read from clients (inbound) and written to clients (outbound).',
    labelNames: ['frontend', 'backend', 'direction'],
    registers: [this.registry],
  });

  /** Label children bound once per (frontend, backend) at config time: the hot path only looks up. */
  target(frontend: string, backend: string): MetricsTarget {
    return new MetricsTarget(this, frontend, backend);
  }
}

/**
 * Everything one (frontend, backend) pair records, with label children bound when the
 * configuration is applied. Per request: one Map lookup for the counter child, no label
 * strings built.
 */
export class MetricsTarget {
  readonly #metrics: WorkerMetrics;
  readonly frontend: string;
  readonly backend: string;
  readonly #byStatus = new Map<number, CounterChild>();
  readonly duration: HistogramChild;
  readonly active: GaugeChild;
  readonly connections: CounterChild;
  readonly bytesIn: CounterChild;
  readonly bytesOut: CounterChild;

  constructor(metrics: WorkerMetrics, frontend: string, backend: string) {
    this.#metrics = metrics;
    this.frontend = frontend;
    this.backend = backend;
    this.duration = metrics.duration.labels(frontend, backend);
    this.active = metrics.active.labels(frontend, backend);
    this.connections = metrics.connections.labels(frontend, backend);
    this.bytesIn = metrics.bytes.labels(frontend, backend, 'inbound');
    this.bytesOut = metrics.bytes.labels(frontend, backend, 'outbound');
  }

  /** One answered request. */
  request(method: string, status: number, seconds: number): void {
    this.#metrics.served++;
    const m = methodIndex(method);
    const id = status * 16 + m;
    let child = this.#byStatus.get(id);
    if (child === undefined) {
      child = this.#metrics.requests.labels(this.frontend, this.backend, methodLabel(m), String(status));
      this.#byStatus.set(id, child);
    }
    child.inc();
    this.duration.observe(seconds);
  }

  bytes(inbound: number, outbound: number): void {
    if (inbound > 0) this.bytesIn.inc(inbound);
    if (outbound > 0) this.bytesOut.inc(outbound);
  }
}
