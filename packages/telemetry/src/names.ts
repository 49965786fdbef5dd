/** Metric names and label sets of SPEC §5, in one place. */
export const METRIC = {
  requests: 'rustlb_requests_total',
  duration: 'rustlb_request_duration_seconds',
  serverRequests: 'rustlb_server_requests_total',
  serverDuration: 'rustlb_server_request_duration_seconds',
  activeConnections: 'rustlb_active_connections',
  connections: 'rustlb_connections_total',
  bytes: 'rustlb_bytes_total',
  backendHealth: 'rustlb_backend_health',
  healthChecks: 'rustlb_health_checks_total',
  processCpu: 'rustlb_process_cpu_percent',
  processMemory: 'rustlb_process_resident_memory_bytes',
  workerRequests: 'rustlb_worker_requests_total',
  workerRestarts: 'rustlb_worker_restarts_total',
  configReloads: 'rustlb_config_reloads_total',
  configGeneration: 'rustlb_config_generation',
  configLastReload: 'rustlb_config_last_reload_success_timestamp_seconds',
  scrapeErrors: 'rustlb_metrics_scrape_errors_total',
  proxyRejected: 'rustlb_proxy_protocol_rejected_total',
  tlsHandshakes: 'rustlb_tls_handshakes_total',
  tlsHandshakeFailures: 'rustlb_tls_handshake_failures_total',
  tlsHandshakeDuration: 'rustlb_tls_handshake_duration_seconds',
  tlsCertificateExpiry: 'rustlb_tls_certificate_expiry_timestamp_seconds',
} as const;

/** The only `method` label values: anything else is `OTHER`, so clients cannot grow the label set. */
export const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'] as const;

const METHOD_INDEX: ReadonlyMap<string, number> = new Map(METHODS.map((m, i) => [m, i]));
export const OTHER_METHOD = METHODS.length;

export function methodIndex(method: string): number {
  return METHOD_INDEX.get(method) ?? OTHER_METHOD;
}

export function methodLabel(index: number): string {
  return METHODS[index] ?? 'OTHER';
}

/** Buckets of rustlb's own duration histograms (Prometheus' usual spread, up to a minute). */
export const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * The original rustlb's buckets for `rustlb_request_duration_seconds` (prometheus-client's
 * `exponential_buckets(0.001, 2.5, 13)`): 0.001 × 2.5^n for n = 0..12, 1 ms to 59.6 s, so
 * `le` values in dashboards and alerts built on it keep matching.
 */
export const ORIGINAL_DURATION_BUCKETS: readonly number[] = Array.from({ length: 13 }, (_, n) => 0.001 * 2.5 ** n);

/** The original's label values: its Rust enum variants as written (`direction`, `result`). */
export const LABEL = {
  inbound: 'Inbound',
  outbound: 'Outbound',
  success: 'Success',
  failure: 'Failure',
} as const;
