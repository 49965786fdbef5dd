import type { MetricsJson } from './aggregate.js';
import { Cell } from './cell.js';
import { IntakeMetrics } from './intake-metrics.js';
import { DURATION_BUCKETS, LABEL, METHODS, METRIC, methodIndex, methodLabel, ORIGINAL_DURATION_BUCKETS } from './names.js';

export { Cell };

const HELP = {
  proxyRejected: 'Connections closed because their PROXY protocol header was missing, invalid, too long or late, by frontend and reason.',
  tlsHandshakes: 'TLS handshakes completed, by frontend and protocol version.',
  tlsHandshakeFailures: 'TLS handshakes that failed, by frontend and reason.',
  tlsHandshakeDuration: 'Time from a connection handed to TLS to its completed handshake, in seconds.',
  requests: 'Requests answered, by frontend, backend, method and status.',
  duration: 'Time from a request head arriving to the end of its response, in seconds.',
  active: 'Client connections open now (HTTP: under the frontend default backend; TCP: per session).',
  connections: 'Client connections accepted.',
  bytes: 'Bytes read from clients (inbound) and written to clients (outbound).',
  serverRequests: 'HTTP requests answered after a server was picked, by backend, server and status class.',
  serverDuration: 'Time from a request head arriving to the end of its response, per server picked, in seconds.',
} as const;

/** Status classes always exported for a server once it answered: 2xx to 5xx (1xx and 6xx-9xx once seen). */
const ALWAYS_CLASSES = [2, 3, 4, 5];

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
  readonly #servers = new Map<string, ServerMetrics>();
  readonly #intakes = new Map<string, IntakeMetrics>();
  readonly #isEnabled = (): boolean => this.enabled;
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

  /**
   * The bound metrics of one upstream server of a backend, held by the data plane's slot
   * for that server (it outlives reloads while the server stays). Bounded by the
   * servers configured or resolved now: {@link ServerMetrics.release} drops the handle
   * of a server that left, so DNS churn does not grow the label set.
   */
  server(backend: string, address: string): ServerMetrics {
    const key = `${backend}\n${address}`;
    let s = this.#servers.get(key);
    if (s === undefined) {
      s = new ServerMetrics(this, backend, address);
      this.#servers.set(key, s);
    }
    return s;
  }

  /** What one frontend's intake records (PROXY headers, TLS handshakes), bound once per frontend name. */
  intake(frontend: string): IntakeMetrics {
    let m = this.#intakes.get(frontend);
    if (m === undefined) {
      m = new IntakeMetrics(frontend, this.#isEnabled);
      this.#intakes.set(frontend, m);
    }
    return m;
  }

  /** @internal A server left the configuration: its series are no longer exported by this process. */
  forgetServer(s: ServerMetrics): void {
    const key = `${s.backend}\n${s.server}`;
    if (this.#servers.get(key) === s) this.#servers.delete(key);
  }

  /** Everything recorded so far, in prom-client's `getMetricsAsJSON()` shape. */
  snapshot(): MetricsJson {
    const requests: Value[] = [];
    const duration: Value[] = [];
    const active: Value[] = [];
    const connections: Value[] = [];
    const bytes: Value[] = [];
    const serverRequests: Value[] = [];
    const serverDuration: Value[] = [];
    const proxyRejected: Value[] = [];
    const tlsFailures: Value[] = [];
    const tlsHandshakes: Value[] = [];
    const tlsDuration: Value[] = [];
    if (this.enabled) {
      for (const t of this.#targets.values()) {
        const labels = { frontend: t.frontend, backend: t.backend };
        for (const [id, cell] of t.requestCells()) {
          requests.push({ labels: { ...labels, method: methodLabel(id % METHOD_SLOTS), status: Math.floor(id / METHOD_SLOTS) }, value: cell.value });
        }
        // Only pairs that answered requests (a TCP frontend never does).
        if (t.histogram.count > 0) histogramValues(duration, METRIC.duration, labels, t.histogram);
        active.push({ labels, value: t.active.value });
        connections.push({ labels, value: t.connections.value });
        // The original's label values (its enum variants), so its dashboards keep matching.
        bytes.push({ labels: { ...labels, direction: LABEL.inbound }, value: t.bytesIn.value });
        bytes.push({ labels: { ...labels, direction: LABEL.outbound }, value: t.bytesOut.value });
      }
      for (const s of this.#servers.values()) {
        // Only servers that answered requests (TCP sessions are not requests).
        if (s.histogram.count === 0) continue;
        const labels = { backend: s.backend, server: s.server };
        for (let c = 1; c < s.statuses.length; c++) {
          const value = (s.statuses[c] as Cell).value;
          if (value > 0 || ALWAYS_CLASSES.includes(c)) serverRequests.push({ labels: { ...labels, status: `${c}xx` }, value });
        }
        histogramValues(serverDuration, METRIC.serverDuration, labels, s.histogram);
      }
      for (const m of this.#intakes.values()) {
        const frontend = m.frontend;
        for (const [reason, cell] of m.proxyRejections) proxyRejected.push({ labels: { frontend, reason }, value: cell.value });
        for (const [reason, cell] of m.tlsFailures) tlsFailures.push({ labels: { frontend, reason }, value: cell.value });
        for (const [version, cell] of m.tlsHandshakes) tlsHandshakes.push({ labels: { frontend, version }, value: cell.value });
        if (m.handshakeCount > 0)
          histogramValues(
            tlsDuration,
            METRIC.tlsHandshakeDuration,
            { frontend },
            { bounds: DURATION_BUCKETS, buckets: m.handshakeBuckets, sum: m.handshakeSum, count: m.handshakeCount },
          );
      }
    }
    // The intake's families exist once a TLS or PROXY frontend has something to count:
    // a configuration without either exports none of them.
    const intake: MetricsJson = [];
    if (proxyRejected.length > 0) intake.push(metric(METRIC.proxyRejected, HELP.proxyRejected, 'counter', proxyRejected));
    if (tlsHandshakes.length > 0) intake.push(metric(METRIC.tlsHandshakes, HELP.tlsHandshakes, 'counter', tlsHandshakes));
    if (tlsFailures.length > 0) intake.push(metric(METRIC.tlsHandshakeFailures, HELP.tlsHandshakeFailures, 'counter', tlsFailures));
    if (tlsDuration.length > 0) intake.push(metric(METRIC.tlsHandshakeDuration, HELP.tlsHandshakeDuration, 'histogram', tlsDuration));
    return [
      ...intake,
      metric(METRIC.requests, HELP.requests, 'counter', requests),
      metric(METRIC.duration, HELP.duration, 'histogram', duration),
      metric(METRIC.activeConnections, HELP.active, 'gauge', active),
      metric(METRIC.connections, HELP.connections, 'counter', connections),
      metric(METRIC.bytes, HELP.bytes, 'counter', bytes),
      metric(METRIC.serverRequests, HELP.serverRequests, 'counter', serverRequests),
      metric(METRIC.serverDuration, HELP.serverDuration, 'histogram', serverDuration),
    ];
  }
}

/** A histogram's cumulative `_bucket` series, `_sum` and `_count`, as prom-client exports them. */
function histogramValues(out: Value[], name: string, labels: Record<string, string>, h: HistogramCells): void {
  let acc = 0;
  const bounds = h.bounds;
  for (let i = 0; i < bounds.length; i++) {
    acc += h.buckets[i] as number;
    out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: bounds[i] as number }, value: acc } as Value);
  }
  out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: h.count } as Value);
  out.push({ metricName: `${name}_sum`, labels, value: h.sum } as Value);
  out.push({ metricName: `${name}_count`, labels, value: h.count } as Value);
}

function metric(name: string, help: string, type: 'counter' | 'gauge' | 'histogram', values: Value[]): MetricsJson[number] {
  // prom-client's typings declare `type` as a numeric enum; at run time it is the text name.
  return { name, help, type, aggregator: 'sum', values } as unknown as MetricsJson[number];
}

/** Counts and sum of one duration histogram; `buckets[i]` counts observations in (bound[i-1], bound[i]]. */
export interface HistogramCells {
  /** Upper bounds, ascending (`+Inf` implied). */
  readonly bounds: readonly number[];
  readonly buckets: Float64Array;
  sum: number;
  count: number;
}

/** Empty cells over `bounds`. */
function histogramCells(bounds: readonly number[]): HistogramCells {
  return { bounds, buckets: new Float64Array(bounds.length), sum: 0, count: 0 };
}

/** One observation: a bucket search over 13 or 15 bounds and additions. */
function observe(h: HistogramCells, seconds: number): void {
  h.sum += seconds;
  h.count++;
  const bounds = h.bounds;
  let i = 0;
  while (i < bounds.length && seconds > (bounds[i] as number)) i++;
  // Above the last bound: only +Inf (the count) holds it.
  if (i < bounds.length) h.buckets[i] = (h.buckets[i] as number) + 1;
}

/**
 * Everything one (frontend, backend) pair records, bound when the configuration is
 * applied. Per request: one Map lookup by a small integer for the (method, status)
 * counter, a bucket search over 13 bounds, and additions; no strings, no objects.
 */
export class MetricsTarget {
  readonly #metrics: WorkerMetrics;
  readonly frontend: string;
  readonly backend: string;
  /** (status × 16 + method index) → count. Status codes are three digits, methods bounded: the map stays small. */
  readonly #requests = new Map<number, Cell>();
  /** `rustlb_request_duration_seconds`, one of the original's metrics: its buckets. */
  readonly histogram: HistogramCells = histogramCells(ORIGINAL_DURATION_BUCKETS);
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
    observe(this.histogram, seconds);
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

/**
 * What one upstream server records per request (`rustlb_server_requests_total`,
 * `rustlb_server_request_duration_seconds`): bound once per server by the data plane's
 * slot, every cell allocated up front. Per request: an index by the status class, a
 * bucket search, additions; no map, no strings, no objects.
 */
export class ServerMetrics {
  readonly #metrics: WorkerMetrics;
  readonly backend: string;
  /** The server's address, as `rustlb_backend_health`'s `server` label has it. */
  readonly server: string;
  /**
   * Index 1..9: requests answered with a status of that class (`status="2xx"`...), so a
   * server has at most nine series whatever codes it sends (a status line carries any
   * three digits); 0 unused.
   */
  readonly statuses: readonly Cell[] = Array.from({ length: 10 }, () => new Cell());
  /** rustlb's own metric: rustlb's buckets. */
  readonly histogram: HistogramCells = histogramCells(DURATION_BUCKETS);

  constructor(metrics: WorkerMetrics, backend: string, server: string) {
    this.#metrics = metrics;
    this.backend = backend;
    this.server = server;
  }

  /** One request answered after this server was picked: `status` as sent to the client. */
  request(status: number, seconds: number): void {
    if (!this.#metrics.enabled) return;
    const c = status < 100 ? 1 : status >= 1000 ? 9 : (status / 100) | 0;
    (this.statuses[c] as Cell).value++;
    observe(this.histogram, seconds);
  }

  /** The server left the configuration: its series go from this process's snapshots. */
  release(): void {
    this.#metrics.forgetServer(this);
  }
}
