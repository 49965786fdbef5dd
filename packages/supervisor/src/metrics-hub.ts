import { serverKey } from '@rustlb/core';
import type { MetricsReply } from '@rustlb/core/ipc';
import { METRIC, type MetricsJson } from '@rustlb/telemetry';
import { accumulate, keepServers, mergeSnapshots } from '@rustlb/telemetry/aggregate';
import pidusage from 'pidusage';
import type { Registry } from 'prom-client';
import type { Fleet, WorkerRecord } from './fleet.js';
import type { PrimaryMetrics } from './primary-metrics.js';

/**
 * A worker that has not answered a collection by then is left out of it (its last
 * report is used): the whole scrape, pidusage and merging included, stays under 1 s.
 */
export const COLLECT_TIMEOUT_MS = 500;

interface Waiter {
  readonly pid: number;
  readonly done: (answered: boolean) => void;
}

export interface ProcessUsage {
  readonly cpu: number;
  readonly memory: number;
}

/**
 * The one place metrics are served from: the primary's own metrics merged with every
 * worker's, collected over IPC per scrape. What a worker last reported is kept when it
 * dies (counters and histograms only), so totals never go backwards and Prometheus never
 * sees a fake counter reset. A worker that does not answer in time does not hold the
 * scrape up; it is counted in `rustlb_metrics_scrape_errors_total`.
 *
 * Consistency: a worker's snapshot moves from "live" to "retired" in one synchronous
 * step, and a scrape reads both in one synchronous step, so no scrape can see a dead
 * worker's counters in neither place.
 */
export class MetricsHub {
  readonly #metrics: PrimaryMetrics;
  readonly #fleet: Fleet;
  /** Exited workers whose last report is not in #retired yet (their IPC channel is still open). */
  readonly #leaving = new Set<WorkerRecord>();
  /** Counters and histograms of dead workers, merged. */
  #retired: MetricsJson = [];
  /** Requests answered by dead workers, per slot. */
  readonly #retiredServed = new Map<number, number>();
  /** Pending collections, by `seq:pid`. */
  readonly #waiting = new Map<string, Waiter>();
  #seq = 0;
  /** Keys (`BACKEND/ADDRESS`) of the servers configured or resolved now; null: keep every server's series. */
  readonly #servers: (() => ReadonlySet<string>) | null;

  constructor(metrics: PrimaryMetrics, fleet: Fleet, servers: (() => ReadonlySet<string>) | null = null) {
    this.#metrics = metrics;
    this.#fleet = fleet;
    this.#servers = servers;
  }

  /** A worker's report: the answer to a collection, or unasked (its last one before a planned exit). The fleet keeps it on the worker's record. */
  reply(record: WorkerRecord, reply: MetricsReply): void {
    this.#fleet.reported(record, reply);
    this.#waiting.get(`${reply.seq}:${record.pid}`)?.done(true);
  }

  /** Asks every live worker for its metrics; resolves once all answered, left, or the timeout passed. */
  async collect(timeoutMs = COLLECT_TIMEOUT_MS): Promise<{ missing: WorkerRecord[] }> {
    const seq = ++this.#seq;
    const live = this.#fleet.live().filter((r) => r.worker.isConnected());
    const missing: WorkerRecord[] = [];
    await Promise.all(
      live.map(
        (r) =>
          new Promise<void>((resolve) => {
            const key = `${seq}:${r.pid}`;
            const done = (answered: boolean) => {
              clearTimeout(timer);
              this.#waiting.delete(key);
              if (!answered) missing.push(r);
              resolve();
            };
            const timer = setTimeout(() => done(false), timeoutMs);
            this.#waiting.set(key, { pid: r.pid, done });
            this.#fleet.send(r, { kind: 'metrics-collect', seq });
          }),
      ),
    );
    return { missing };
  }

  /**
   * A worker exited: keep its counters. Reports still in the IPC pipe (the last one a
   * draining worker sends before it exits) are read before the channel closes, so the
   * retirement waits for that.
   */
  retire(record: WorkerRecord): void {
    // A collection waiting on it is not an error: it is gone, and its last report is kept.
    for (const w of [...this.#waiting.values()]) if (w.pid === record.pid) w.done(true);
    if (record.worker.isConnected()) {
      this.#leaving.add(record);
      record.worker.once('disconnect', () => this.#retire(record));
    } else {
      this.#retire(record);
    }
  }

  #retire(record: WorkerRecord): void {
    this.#leaving.delete(record);
    const report = record.report;
    if (report === null) return;
    // One synchronous step: the report leaves #leaving and enters #retired together.
    this.#retiredServed.set(record.slot, (this.#retiredServed.get(record.slot) ?? 0) + report.figures.requests);
    this.#retired = accumulate(this.#retired, report.metrics as MetricsJson);
  }

  /** CPU and memory of the primary and every live worker (pidusage); a process that just left is skipped. */
  async usage(): Promise<Map<number, ProcessUsage>> {
    const pids = [process.pid, ...this.#fleet.live().map((r) => r.pid)];
    const out = new Map<number, ProcessUsage>();
    const stats = await Promise.allSettled(pids.map((pid) => pidusage(pid)));
    stats.forEach((s, i) => {
      if (s.status === 'fulfilled') out.set(pids[i] as number, { cpu: s.value.cpu, memory: s.value.memory });
    });
    return out;
  }

  /** The Prometheus text of the whole cluster. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    const { registry } = await this.merged();
    return { contentType: registry.contentType, body: await registry.metrics() };
  }

  /**
   * The cluster's metrics as one snapshot (what {@link scrape} serves, as data), with the
   * process usage it measured: the status page reads the very counters `/metrics` shows.
   */
  async snapshot(): Promise<{ metrics: MetricsJson; usage: Map<number, ProcessUsage> }> {
    const { registry, usage } = await this.merged();
    return { metrics: (await registry.getMetricsAsJSON()) as MetricsJson, usage };
  }

  /** Collects every worker's report and merges them with the primary's own and the retired ones. */
  async merged(): Promise<{ registry: Registry; usage: Map<number, ProcessUsage> }> {
    const [{ missing }, usage] = await Promise.all([this.collect(), this.usage()]);
    const m = this.#metrics;
    if (missing.length > 0) m.scrapeErrors.inc(missing.length);
    m.cpu.reset();
    m.memory.reset();
    const self = usage.get(process.pid);
    if (self !== undefined) {
      m.cpu.labels('primary', '').set(self.cpu);
      m.memory.labels('primary', '').set(self.memory);
    }
    for (const r of this.#fleet.live()) {
      const u = usage.get(r.pid);
      if (u === undefined) continue;
      m.cpu.labels('worker', String(r.slot)).set(u.cpu);
      m.memory.labels('worker', String(r.slot)).set(u.memory);
    }
    const own = (await m.registry.getMetricsAsJSON()) as MetricsJson;
    // From here to the merge, synchronous: live and retired workers read as one view.
    if (this.#servers !== null) {
      // Dead workers' per-server series of servers gone since: live workers dropped theirs.
      const current = this.#servers();
      this.#retired = keepServers(this.#retired, (backend, server) => current.has(serverKey(backend, server)));
    }
    const reporting = [...this.#fleet.all(), ...this.#leaving];
    const served = new Map<number, number>(this.#retiredServed);
    for (const r of reporting) served.set(r.slot, (served.get(r.slot) ?? 0) + (r.report?.figures.requests ?? 0));
    const perWorker = {
      name: METRIC.workerRequests,
      help: 'Requests answered by each worker slot (to see skew); a replaced worker continues its slot.',
      type: 'counter',
      aggregator: 'sum',
      values: [...served].sort((a, b) => a[0] - b[0]).map(([slot, value]) => ({ labels: { worker: String(slot) }, value })),
    } as unknown as MetricsJson[number];
    const snapshots: MetricsJson[] = [own, [perWorker], this.#retired];
    for (const r of reporting) if (r.report !== null) snapshots.push(r.report.metrics as MetricsJson);
    return { registry: mergeSnapshots(snapshots), usage };
  }
}
