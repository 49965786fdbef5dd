import type { Fleet, WorkerRecord } from './fleet.js';

/** How often the merged view is pushed to workers at most. */
const PUSH_MS = 50;

/**
 * least_connections across the cluster: every worker reports its own in-flight counts
 * per server (only for least_connections backends, at most every 50 ms), which the fleet
 * keeps on its record; this pushes each worker the sum of the *other* workers' counts, at
 * most every 50 ms. The staleness this allows is described in docs/architecture.md.
 */
export class ConnView {
  readonly #fleet: Fleet;
  #timer: NodeJS.Timeout | null = null;

  constructor(fleet: Fleet) {
    this.#fleet = fleet;
  }

  report(record: WorkerRecord, counts: Readonly<Record<string, number>>): void {
    this.#fleet.counted(record, counts);
    this.#timer ??= setTimeout(() => this.#push(), PUSH_MS);
  }

  #push(): void {
    this.#timer = null;
    const live = this.#fleet.live();
    for (const r of live) {
      const others: Record<string, number> = {};
      for (const other of live) {
        if (other === r) continue;
        for (const [key, n] of Object.entries(other.connCounts)) others[key] = (others[key] ?? 0) + n;
      }
      this.#fleet.send(r, { kind: 'conn-view', counts: others });
    }
  }
}
