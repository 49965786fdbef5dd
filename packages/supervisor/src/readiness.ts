import type { Check } from './admin-http.js';
import type { ConfigOwner } from './config-owner.js';
import type { Fleet } from './fleet.js';
import type { Phase } from './phase.js';

/** A starting worker younger than this does not make the process unready (a respawn in progress). */
const STARTING_GRACE_MS = 5_000;
/** An event loop this late is a stuck primary: /livez fails, and the kubelet restarts the pod. */
const MAX_LAG_MS = 5_000;
const LAG_SAMPLE_MS = 500;

/**
 * What `/livez` and `/readyz` answer. Live: the primary's event loop turns and a worker is
 * alive. Ready: started and not shutting down, a worker ready, every serving worker on the
 * generation in force, every frontend bound.
 */
export class Readiness {
  readonly #fleet: Fleet;
  readonly #owner: ConfigOwner;
  readonly #phase: Phase;
  #loopLag = 0;
  #lagTimer: NodeJS.Timeout | null = null;

  constructor(fleet: Fleet, owner: ConfigOwner, phase: Phase) {
    this.#fleet = fleet;
    this.#owner = owner;
    this.#phase = phase;
  }

  liveness(): Check[] {
    const live = this.#fleet.live().length;
    return [
      { name: 'event-loop', ok: this.#loopLag < MAX_LAG_MS, detail: `lag ${Math.round(this.#loopLag)}ms` },
      { name: 'workers', ok: live > 0 || this.#phase.now === 'starting', detail: `${live} alive` },
    ];
  }

  readiness(): Check[] {
    const phase = this.#phase.now;
    const gen = this.#owner.generation;
    const now = Date.now();
    const serving = this.#fleet.serving();
    const counted = serving.filter((r) => r.state === 'ready' || now - r.startedAt > STARTING_GRACE_MS);
    const ready = serving.filter((r) => r.state === 'ready');
    const behind = counted.filter((r) => r.generation < gen);
    const unbound = this.#fleet.bindFailures();
    return [
      { name: 'started', ok: phase !== 'starting', detail: phase },
      { name: 'not-draining', ok: !this.#phase.shuttingDown, detail: phase === 'draining' ? 'shutting down' : 'serving' },
      { name: 'workers', ok: ready.length > 0, detail: `${ready.length} ready of ${this.#fleet.count}` },
      {
        name: 'config',
        ok: behind.length === 0,
        detail: behind.length === 0 ? `every worker has generation ${gen}` : `workers ${behind.map((r) => r.slot).join(', ')} behind generation ${gen}`,
      },
      {
        name: 'frontends',
        ok: unbound.length === 0,
        detail: unbound.length === 0 ? 'all bound' : unbound.map((f) => `${f.frontend} (${f.address}: ${f.code})`).join(', '),
      },
    ];
  }

  ready(): boolean {
    return this.readiness().every((c) => c.ok);
  }

  /** Starts measuring the event loop's lag (a timer that should fire every 500 ms). */
  watchEventLoop(): void {
    let last = performance.now();
    this.#lagTimer = setInterval(() => {
      const now = performance.now();
      this.#loopLag = Math.max(0, now - last - LAG_SAMPLE_MS);
      last = now;
    }, LAG_SAMPLE_MS);
    this.#lagTimer.unref();
  }

  stop(): void {
    if (this.#lagTimer !== null) clearInterval(this.#lagTimer);
  }
}
