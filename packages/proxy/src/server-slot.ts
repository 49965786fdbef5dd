import type { Candidate } from '@rustlb/balancer';
import { isServerAvailable, type ServerEntry } from '@rustlb/core';
import { type PoolSettings, UpstreamPool } from './http/upstream-pool.js';

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

  constructor(entry: ServerEntry, backend: string) {
    this.key = entry.key;
    this.backend = backend;
    this.address = entry.address;
    this.host = entry.host;
    this.port = entry.port;
    this.weight = entry.weight;
    this.available = isServerAvailable(entry);
  }

  update(entry: ServerEntry): void {
    this.weight = entry.weight;
    this.available = isServerAvailable(entry);
  }

  pool(settings: PoolSettings): UpstreamPool {
    const id = `${settings.connectMs}/${settings.upstreamIdleMs}`;
    let pool = this.#pools.get(id);
    if (pool === undefined) {
      pool = new UpstreamPool(this.host, this.port, settings);
      this.#pools.set(id, pool);
    }
    return pool;
  }

  /** Closes idle pooled connections once in-flight requests on them are done. */
  close(): void {
    for (const pool of this.#pools.values()) pool.close();
    this.#pools.clear();
  }
}
