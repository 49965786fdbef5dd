/** Primary → worker: send your metrics (and status figures) now, answering with `seq`. */
export interface MetricsCollect {
  readonly kind: 'metrics-collect';
  readonly seq: number;
}

/** prom-client's `getMetricsAsJSON()` output, kept opaque here (core imports nothing). */
export type MetricsSnapshot = readonly unknown[];

export interface WorkerFigures {
  readonly activeConnections: number;
  readonly requests: number;
  readonly generation: number;
  /** Requests and TCP sessions in flight now per server key (`BACKEND/ADDRESS`), read when asked; servers with none are left out. */
  readonly inFlight: Readonly<Record<string, number>>;
}

/** Worker → primary: the answer to `metrics-collect`. */
export interface MetricsReply {
  readonly kind: 'metrics';
  readonly seq: number;
  readonly metrics: MetricsSnapshot;
  readonly figures: WorkerFigures;
}
