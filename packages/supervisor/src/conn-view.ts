import type { Fleet } from './fleet.js';

/** How often the merged view is pushed to workers at most. */
const PUSH_MS = 50;

/**
 * least_connections across the cluster: every worker reports its own in-flight counts
 * per server (only for least_connections backends, at most every 50 ms); this pushes
 * each worker the sum of the *other* workers' counts, at most every 50 ms. The staleness
 * this allows is described in docs/architecture.md.
 */
export class ConnView {
  readonly #fleet: Fleet;
  /** Worker pid → its counts per server key. */
  readonly #counts = new Map<number, Readonly<Record<string, number>>>();
  #timer: NodeJS.Timeout | null = null;

  constructor(fleet: Fleet) {
    this.#fleet = fleet;
  }

  report(pid: number, counts: Readonly<Record<string, number>>): void {
    this.#counts.set(pid, counts);
    this.#timer ??= setTimeout(() => this.#push(), PUSH_MS);
  }

  /** A worker is gone: its connections went with it. */
  forget(pid: number): void {
    this.#counts.delete(pid);
  }

  /** In-flight requests and sessions per server, cluster-wide (for status). */
  totals(): Map<string, number> {
    const out = new Map<string, number>();
    for (const counts of this.#counts.values()) for (const [k, n] of Object.entries(counts)) out.set(k, (out.get(k) ?? 0) + n);
    return out;
  }

  #push(): void {
    this.#timer = null;
    for (const r of this.#fleet.live()) {
      const others: Record<string, number> = {};
      for (const [pid, counts] of this.#counts) {
        if (pid === r.pid) continue;
        for (const [key, n] of Object.entries(counts)) others[key] = (others[key] ?? 0) + n;
      }
      this.#fleet.send(r, { kind: 'conn-view', counts: others });
    }
  }
}
