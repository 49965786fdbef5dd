import type { Candidate } from '@rustlb/balancer';
import { isServerAvailable, type ServerEntry } from '@rustlb/core';
import { Pool, upstreamConnector } from './undici.js';

/** The upstream settings a pool is built with (they come from the frontend). */
export interface PoolSettings {
  readonly connectMs: number;
  readonly upstreamIdleMs: number;
}

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
  readonly origin: string;
  weight: number;
  available: boolean;
  localActive = 0;
  remoteActive = 0;
  /** Pools by settings signature: two frontends with different timeouts get different pools. */
  readonly #pools = new Map<string, Pool>();

  constructor(entry: ServerEntry, backend: string) {
    this.key = entry.key;
    this.backend = backend;
    this.address = entry.address;
    this.host = entry.host;
    this.port = entry.port;
    this.weight = entry.weight;
    this.available = isServerAvailable(entry);
    this.origin = `http://${entry.host.includes(':') ? `[${entry.host}]` : entry.host}:${entry.port}`;
  }

  update(entry: ServerEntry): void {
    this.weight = entry.weight;
    this.available = isServerAvailable(entry);
  }

  pool(settings: PoolSettings): Pool {
    const id = `${settings.connectMs}/${settings.upstreamIdleMs}`;
    let pool = this.#pools.get(id);
    if (pool === undefined) {
      pool = new Pool(this.origin, {
        connections: null,
        pipelining: 1,
        connect: upstreamConnector(settings.connectMs),
        keepAliveTimeout: settings.upstreamIdleMs,
        keepAliveMaxTimeout: settings.upstreamIdleMs,
        keepAliveTimeoutThreshold: 500,
        maxHeaderSize: 64 * 1024,
      });
      // A pool never throws into the loop; request errors reach the request's handler.
      pool.on('connectionError', () => {});
      this.#pools.set(id, pool);
    }
    return pool;
  }

  /** Closes idle pooled connections once in-flight requests on them are done. */
  close(): void {
    for (const pool of this.#pools.values()) pool.close().catch(() => {});
    this.#pools.clear();
  }
}
