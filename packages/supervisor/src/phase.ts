export type PhaseName = 'starting' | 'running' | 'draining' | 'stopped';

/**
 * Where the primary is in its life: starting, running, draining (a shutdown), stopped.
 * Only the supervisor moves it on; reloads, restarts and the probes read it. The shutdown
 * also aborts {@link stopping}, so whatever waits on workers gives up at once.
 */
export class Phase {
  #now: PhaseName = 'starting';
  readonly #stopping = new AbortController();

  get now(): PhaseName {
    return this.#now;
  }

  /** Draining or stopped. */
  get shuttingDown(): boolean {
    return this.#now === 'draining' || this.#now === 'stopped';
  }

  /** Aborted when the shutdown begins. */
  get stopping(): AbortSignal {
    return this.#stopping.signal;
  }

  running(): void {
    if (this.#now === 'starting') this.#now = 'running';
  }

  draining(): void {
    this.#now = 'draining';
    this.#stopping.abort();
  }

  stopped(): void {
    this.#now = 'stopped';
  }
}
