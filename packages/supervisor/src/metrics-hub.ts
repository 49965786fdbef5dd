import type { MetricsReply, WorkerFigures } from '@rustlb/core/ipc';
import { accumulate, METRIC, type MetricsJson, mergeSnapshots } from '@rustlb/telemetry';
import pidusage from 'pidusage';
import type { Fleet, WorkerRecord } from './fleet.js';
import type { PrimaryMetrics } from './primary-metrics.js';

/** A scrape answers within this, with what the slow workers reported last time. */
const COLLECT_TIMEOUT_MS = 800;

interface Known {
  snapshot: MetricsJson;
  figures: WorkerFigures | null;
}

export interface ProcessUsage {
  readonly cpu: number;
  readonly memory: number;
}

/**
 * The one place metrics are served from: the primary's own metrics merged with every
 * worker's, collected over IPC per scrape. What a worker last reported is kept when it
 * dies (counters only), so totals never go backwards and Prometheus never sees a fake
 * counter reset. A worker that does not answer in time does not hold the scrape up.
 */
export class MetricsHub {
  readonly #metrics: PrimaryMetrics;
  readonly #fleet: Fleet;
  readonly #known = new Map<number, Known>();
  /** Counters and histograms of dead workers, merged. */
  #retired: MetricsJson = [];
  /** Requests answered by dead workers, per slot. */
  readonly #retiredServed = new Map<number, number>();
  readonly #waiting = new Map<number, (reply: MetricsReply) => void>();
  #seq = 0;
  /** Serialises retirements (they merge asynchronously). */
  #retiring: Promise<void> = Promise.resolve();

  constructor(metrics: PrimaryMetrics, fleet: Fleet) {
    this.#metrics = metrics;
    this.#fleet = fleet;
  }

  /** A worker's answer to a collection. */
  reply(record: WorkerRecord, reply: MetricsReply): void {
    const known = this.#known.get(record.pid) ?? { snapshot: [], figures: null };
    known.snapshot = reply.metrics as MetricsJson;
    known.figures = reply.figures;
    this.#known.set(record.pid, known);
    this.#waiting.get(reply.seq * 100_000 + record.pid)?.(reply);
  }

  /** Asks every live worker for its metrics; resolves after all answered or the timeout. */
  async collect(): Promise<{ missing: WorkerRecord[] }> {
    const seq = ++this.#seq;
    const live = this.#fleet.live().filter((r) => r.state !== 'exited');
    const missing: WorkerRecord[] = [];
    await Promise.all(
      live.map(
        (r) =>
          new Promise<void>((resolve) => {
            const id = seq * 100_000 + r.pid;
            const timer = setTimeout(() => {
              this.#waiting.delete(id);
              missing.push(r);
              resolve();
            }, COLLECT_TIMEOUT_MS);
            this.#waiting.set(id, () => {
              clearTimeout(timer);
              this.#waiting.delete(id);
              resolve();
            });
            this.#fleet.send(r, { kind: 'metrics-collect', seq });
          }),
      ),
    );
    return { missing };
  }

  figures(record: WorkerRecord): WorkerFigures | null {
    return this.#known.get(record.pid)?.figures ?? null;
  }

  /** A worker is gone: keep its counters. */
  retire(record: WorkerRecord): void {
    const known = this.#known.get(record.pid);
    this.#known.delete(record.pid);
    if (known === undefined) return;
    this.#retiredServed.set(record.slot, (this.#retiredServed.get(record.slot) ?? 0) + (known.figures?.requests ?? 0));
    this.#retiring = this.#retiring.then(async () => {
      this.#retired = await accumulate(this.#retired, known.snapshot);
    });
  }

  /** CPU and memory of the primary and every live worker (pidusage). */
  async usage(): Promise<Map<number, ProcessUsage>> {
    const pids = [process.pid, ...this.#fleet.live().map((r) => r.pid)];
    const out = new Map<number, ProcessUsage>();
    try {
      const stats = await pidusage(pids);
      for (const [pid, s] of Object.entries(stats)) if (s) out.set(Number(pid), { cpu: s.cpu, memory: s.memory });
    } catch {
      // A worker exited between listing and reading /proc: report what we have.
    }
    return out;
  }

  /** The Prometheus text of the whole cluster. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    const { missing } = await this.collect();
    if (missing.length > 0) this.#metrics.scrapeErrors.inc(missing.length);
    const usage = await this.usage();
    const m = this.#metrics;
    m.cpu.reset();
    m.memory.reset();
    const self = usage.get(process.pid);
    if (self !== undefined) {
      m.cpu.labels('primary', '').set(self.cpu);
      m.memory.labels('primary', '').set(self.memory);
    }
    const served = new Map<number, number>(this.#retiredServed);
    for (const r of this.#fleet.live()) {
      const u = usage.get(r.pid);
      if (u !== undefined) {
        m.cpu.labels('worker', String(r.slot)).set(u.cpu);
        m.memory.labels('worker', String(r.slot)).set(u.memory);
      }
      served.set(r.slot, (served.get(r.slot) ?? 0) + (this.figures(r)?.requests ?? 0));
    }
    await this.#retiring;
    const own = (await m.registry.getMetricsAsJSON()) as MetricsJson;
    const perWorker = {
      name: METRIC.workerRequests,
      help: 'Requests answered by each worker slot (to see skew); a replaced worker continues its slot.',
      type: 'counter',
      aggregator: 'sum',
      values: [...served].map(([slot, value]) => ({ labels: { worker: String(slot) }, value })),
    } as unknown as MetricsJson[number];
    const snapshots: MetricsJson[] = [own, [perWorker], this.#retired];
    for (const known of this.#known.values()) snapshots.push(known.snapshot);
    const merged = mergeSnapshots(snapshots);
    return { contentType: merged.contentType, body: await merged.metrics() };
  }
}
