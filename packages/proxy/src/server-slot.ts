import type { Candidate } from '@rustlb/balancer';
import { isServerAvailable, type ServerEntry } from '@rustlb/core';
import type { ServerMetrics, WorkerMetrics } from '@rustlb/telemetry';
import { PLAIN_LINK, type PoolSettings, type UpstreamLink, UpstreamPool } from './http/upstream-pool.js';

/**
 * One upstream server as a worker knows it. Slots outlive configuration generations
 * while the server stays (same backend, same address), so pooled connections, health
 * flags and in-flight counts carry over a reload.
 */
export class ServerSlot implements Candidate {
  readonly key: string;
  readonly backend: string;
  readonly address: string;
  readonly host: string;
  readonly port: number;
  weight: number;
  available: boolean;
  localActive = 0;
  remoteActive = 0;
  /** Pools by settings signature: two frontends with different timeouts get different pools. */
  readonly #pools = new Map<string, UpstreamPool>();
  /** This server's request metrics, bound at its first answered request and kept while the slot lives. */
  #metrics: ServerMetrics | null = null;
  #retired = false;
  #link: UpstreamLink = PLAIN_LINK;

  constructor(entry: ServerEntry, backend: string) {
    this.key = entry.key;
    this.backend = backend;
    this.address = entry.address;
    this.host = entry.host;
    this.port = entry.port;
    this.weight = entry.weight;
    this.available = isServerAvailable(entry);
  }

  /** How connections to this server are made (the backend's tls and send_proxy); a change closes the pools made the old way. */
  get link(): UpstreamLink {
    return this.#link;
  }

  configure(link: UpstreamLink): void {
    if (sameLink(this.#link, link)) return;
    this.#link = link;
    for (const pool of this.#pools.values()) pool.close();
    this.#pools.clear();
  }

  update(entry: ServerEntry): void {
    this.weight = entry.weight;
    this.available = isServerAvailable(entry);
  }

  pool(settings: PoolSettings): UpstreamPool {
    const id = settings.id;
    let pool = this.#pools.get(id);
    if (pool === undefined) {
      pool = new UpstreamPool(this.host, this.port, settings, this.#link);
      this.#pools.set(id, pool);
    }
    return pool;
  }

  /**
   * One HTTP request answered after this server was picked (the exchange's outcome, once):
   * `rustlb_server_requests_total` and `rustlb_server_request_duration_seconds`.
   */
  recordRequest(metrics: WorkerMetrics, status: number, seconds: number): void {
    let m = this.#metrics;
    if (m === null) {
      // A request finishing on a server a reload removed: its series are gone, not re-created.
      if (this.#retired) return;
      m = metrics.server(this.backend, this.address);
      this.#metrics = m;
    }
    m.request(status, seconds);
  }

  /** The server left the configuration: its pools close and its per-server series go. */
  retire(): void {
    this.#retired = true;
    this.#metrics?.release();
    this.close();
  }

  /** Closes idle pooled connections once in-flight requests on them are done. */
  close(): void {
    for (const pool of this.#pools.values()) pool.close();
    this.#pools.clear();
  }
}

function sameLink(a: UpstreamLink, b: UpstreamLink): boolean {
  if (a.sendProxy !== b.sendProxy) return false;
  const x = a.tls;
  const y = b.tls;
  if (x === null || y === null) return x === y;
  return x.verify === y.verify && x.caPem === y.caPem && x.servername === y.servername && x.certPem === y.certPem && x.keyPem === y.keyPem;
}
