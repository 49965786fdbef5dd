import { type FrontendConfig, formatHostPort, type ResolvedConfig, RustlbError, type Topology } from '@rustlb/core';
import type { BindFailure } from '@rustlb/core/ipc';
import type { ProxyContext } from './context.js';
import { HttpFrontend } from './http/http-frontend.js';
import { HttpState } from './http/http-state.js';
import type { WorkerSlot } from './listener.js';
import { ProxyTables } from './tables.js';
import { TcpFrontend, TcpState } from './tcp/tcp-frontend.js';

export type Frontend = HttpFrontend | TcpFrontend;

/** How often idle keep-alive connections are swept while draining. */
const SWEEP_MS = 250;

function sameSocket(a: FrontendConfig, b: FrontendConfig): boolean {
  return a.protocol === b.protocol && a.listen.host === b.listen.host && a.listen.port === b.listen.port;
}

/**
 * Every frontend of one worker and the tables they route with. `apply` builds a new
 * generation and swaps it in: frontends whose address and protocol are unchanged keep
 * their listener and connections and just take the new state; added ones start
 * listening; removed (or moved) ones stop accepting and drain.
 */
export class DataPlane {
  readonly ctx: ProxyContext;
  readonly #offset: number;
  /** This worker's slot: each frontend's `max_connections` share depends on it. */
  readonly #worker: WorkerSlot;
  #tables: ProxyTables | null = null;
  readonly #frontends = new Map<string, Frontend>();
  /** Removed frontends finishing their connections, with the time they must be gone by. */
  readonly #retiring = new Map<Frontend, number>();
  #sweeper: NodeJS.Timeout | null = null;

  constructor(ctx: ProxyContext, offset: number, workers: number) {
    this.ctx = ctx;
    this.#offset = offset;
    this.#worker = { slot: offset, workers };
  }

  get tables(): ProxyTables | null {
    return this.#tables;
  }

  get generation(): number {
    return this.#tables?.generation ?? 0;
  }

  async apply(generation: number, config: ResolvedConfig, topology: Topology): Promise<BindFailure[]> {
    const tables = ProxyTables.build(generation, config, topology, this.#tables, this.#offset);
    this.#tables = tables;
    this.ctx.accessLog = config.global.accessLog;
    this.ctx.metrics.enabled = config.global.metrics.enabled;
    const wanted = new Map(config.frontends.map((f) => [f.name, f]));
    // Stop the ones that go (or move) first, so an address handed from one frontend to another is free.
    for (const [name, fe] of this.#frontends) {
      const next = wanted.get(name);
      if (next === undefined || !sameSocket(fe.state.frontend, next)) {
        this.#frontends.delete(name);
        this.#retire(fe, config.global.shutdownTimeoutMs);
      }
    }
    const failures: BindFailure[] = [];
    const starting: Promise<void>[] = [];
    for (const f of config.frontends) {
      const existing = this.#frontends.get(f.name);
      if (existing !== undefined) {
        starting.push(this.#update(existing, f, tables));
        continue;
      }
      const fe = this.#create(f, tables);
      this.#frontends.set(f.name, fe);
      starting.push(
        fe.listen(this.#worker).catch((err: unknown) => {
          this.#frontends.delete(f.name);
          fe.destroy();
          const details = err instanceof RustlbError ? err.details : undefined;
          failures.push({ frontend: f.name, address: formatHostPort(f.listen), code: String(details?.code ?? 'UNKNOWN'), message: (err as Error).message });
        }),
      );
    }
    await Promise.all(starting);
    return failures;
  }

  /** A new server table: flags change in place, membership changes rebuild the states. */
  topology(topology: Topology): void {
    const tables = this.#tables;
    if (tables === null || topology.version <= tables.topologyVersion) return;
    const next = tables.withTopology(topology);
    if (next === tables) return;
    this.#tables = next;
    for (const fe of this.#frontends.values()) void this.#update(fe, fe.state.frontend, next);
  }

  /** In-flight counts of the other workers, for least_connections. */
  connView(counts: Readonly<Record<string, number>>): void {
    const tables = this.#tables;
    if (tables === null) return;
    for (const slot of tables.slots.values()) slot.remoteActive = counts[slot.key] ?? 0;
  }

  #create(f: FrontendConfig, tables: ProxyTables): Frontend {
    return f.protocol === 'http'
      ? new HttpFrontend(this.ctx, new HttpState(f, tables, this.ctx.metrics))
      : new TcpFrontend(this.ctx, new TcpState(f, tables, this.ctx.metrics));
  }

  /** Resolves once the frontend listens again if a reload raised its share from 0 (never rejects). */
  #update(fe: Frontend, f: FrontendConfig, tables: ProxyTables): Promise<void> {
    const listening =
      fe instanceof HttpFrontend
        ? fe.update(new HttpState(f, tables, this.ctx.metrics), this.#worker)
        : fe.update(new TcpState(f, tables, this.ctx.metrics), this.#worker);
    // The other workers hold the address, so this is not expected; they go on accepting.
    return listening.catch((err: unknown) => this.ctx.logger.warn({ err, frontend: f.name }, 'frontend cannot listen again in this worker'));
  }

  #retire(fe: Frontend, timeoutMs: number): void {
    this.#retiring.set(fe, Date.now() + timeoutMs);
    if (fe instanceof HttpFrontend) fe.state.closing = true;
    void fe.stopAccepting();
    this.#sweep();
  }

  /** Client connections open now, on every frontend including retiring ones. */
  get openConnections(): number {
    let n = 0;
    for (const fe of this.#frontends.values()) n += fe.openConnections;
    for (const fe of this.#retiring.keys()) n += fe.openConnections;
    return n;
  }

  /**
   * Shutdown, step one: responses carry `Connection: close` and idle keep-alive
   * connections are closed as they appear; listeners keep accepting.
   */
  beginDrain(): void {
    this.ctx.draining = true;
    this.#sweep();
  }

  /** Shutdown, step two: stop accepting everywhere. */
  async stopAccepting(): Promise<void> {
    await Promise.all([...this.#frontends.values()].map((fe) => fe.stopAccepting()));
  }

  /** Calls `done` once no client connection is left. */
  whenIdle(done: () => void): void {
    const check = () => {
      if (this.openConnections === 0) done();
      else setTimeout(check, SWEEP_MS).unref();
    };
    check();
  }

  #sweep(): void {
    if (this.#sweeper !== null) return;
    this.#sweeper = setInterval(() => {
      const now = Date.now();
      if (this.ctx.draining) for (const fe of this.#frontends.values()) fe.closeIdle();
      for (const [fe, deadline] of this.#retiring) {
        fe.closeIdle();
        if (fe.openConnections === 0 || now >= deadline) {
          fe.destroy();
          this.#retiring.delete(fe);
        }
      }
      if (!this.ctx.draining && this.#retiring.size === 0 && this.#sweeper !== null) {
        clearInterval(this.#sweeper);
        this.#sweeper = null;
      }
    }, SWEEP_MS);
    this.#sweeper.unref();
  }

  destroy(): void {
    if (this.#sweeper !== null) clearInterval(this.#sweeper);
    for (const fe of this.#frontends.values()) fe.destroy();
    for (const fe of this.#retiring.keys()) fe.destroy();
    this.#tables?.close();
  }
}
