import { type Balancer, createBalancer } from '@rustlb/balancer';
import type { Algorithm, ResolvedConfig, ServerEntry, Topology } from '@rustlb/core';
import type { Logger } from '@rustlb/telemetry';
import { PLAIN_LINK } from './http/upstream-pool.js';
import { ServerSlot } from './server-slot.js';

/** One backend's servers in a generation, with a balancer per algorithm that uses it. */
export class BackendTable {
  readonly name: string;
  readonly servers: readonly ServerSlot[];
  readonly #offset: number;
  readonly #balancers = new Map<Algorithm, Balancer>();
  #lastWarning = 0;

  constructor(name: string, servers: readonly ServerSlot[], offset: number) {
    this.name = name;
    this.servers = servers;
    this.#offset = offset;
  }

  /** Says at warn level that nothing can take traffic: at most every 10 s, not per request. */
  warnNoServer(logger: Logger): void {
    const now = Date.now();
    if (now - this.#lastWarning < 10_000) return;
    this.#lastWarning = now;
    logger.warn({ backend: this.name, servers: this.servers.length }, 'backend has no healthy server');
  }

  balancer(algorithm: Algorithm): Balancer {
    let b = this.#balancers.get(algorithm);
    if (b === undefined) {
      b = createBalancer(algorithm, this.servers, { offset: this.#offset });
      this.#balancers.set(algorithm, b);
    }
    return b;
  }
}

function sameMembers(slots: readonly ServerSlot[], entries: readonly ServerEntry[]): boolean {
  return slots.length === entries.length && slots.every((s, i) => s.key === entries[i]?.key && s.weight === entries[i]?.weight);
}

/**
 * The data-plane tables of one configuration generation: server slots and backends.
 * Built new for every generation and swapped in as one reference; slots are carried
 * over from the previous tables when the server is unchanged.
 */
export class ProxyTables {
  readonly generation: number;
  readonly config: ResolvedConfig;
  readonly backends: ReadonlyMap<string, BackendTable>;
  readonly slots: ReadonlyMap<string, ServerSlot>;
  readonly topologyVersion: number;
  readonly #offset: number;

  private constructor(
    generation: number,
    config: ResolvedConfig,
    topology: Topology,
    slots: Map<string, ServerSlot>,
    backends: Map<string, BackendTable>,
    offset: number,
  ) {
    this.generation = generation;
    this.config = config;
    this.slots = slots;
    this.backends = backends;
    this.topologyVersion = topology.version;
    this.#offset = offset;
  }

  /** `offset` is the worker's index: balancers start their rotation there. */
  static build(generation: number, config: ResolvedConfig, topology: Topology, previous: ProxyTables | null, offset: number): ProxyTables {
    const slots = new Map<string, ServerSlot>();
    const backends = new Map<string, BackendTable>();
    for (const b of config.backends) {
      const entries = topology.backends[b.name] ?? [];
      const servers = entries.map((e) => {
        const slot = previous?.slots.get(e.key) ?? new ServerSlot(e, b.name);
        slot.update(e);
        slot.configure(b.tls === null && b.sendProxy === null ? PLAIN_LINK : { tls: b.tls, sendProxy: b.sendProxy });
        slots.set(e.key, slot);
        return slot;
      });
      backends.set(b.name, new BackendTable(b.name, servers, offset));
    }
    if (previous !== null) previous.#retire(slots);
    return new ProxyTables(generation, config, topology, slots, backends, offset);
  }

  /**
   * A new server table from the primary. Health and admin flags change in place (the
   * balancers read them); a change of membership (DNS, weights) builds new tables.
   */
  withTopology(topology: Topology): ProxyTables {
    const membershipChanged = this.config.backends.some((b) => {
      const table = this.backends.get(b.name);
      return table === undefined || !sameMembers(table.servers, topology.backends[b.name] ?? []);
    });
    if (membershipChanged) return ProxyTables.build(this.generation, this.config, topology, this, this.#offset);
    for (const entries of Object.values(topology.backends)) {
      for (const e of entries) this.slots.get(e.key)?.update(e);
    }
    return this;
  }

  /** Slots that are gone: their pools close once their in-flight requests finish, their per-server series go. */
  #retire(kept: ReadonlyMap<string, ServerSlot>): void {
    for (const [key, slot] of this.slots) if (!kept.has(key)) slot.retire();
  }

  close(): void {
    for (const slot of this.slots.values()) slot.close();
  }
}
