interface Job {
  timer: NodeJS.Timeout | null;
  cancelled: boolean;
}

/**
 * Runs one task per key on its own interval, jittered ±10% so that many servers are
 * not probed in one burst. A task is never run twice at once: the next run is planned
 * when the previous one has finished.
 */
export class JitteredScheduler {
  readonly #jobs = new Map<string, Job>();
  readonly #random: () => number;

  constructor(random: () => number = Math.random) {
    this.#random = random;
  }

  /** Starts (or restarts) `key`: the first run after a short random delay (≤ 10% of the interval, ≤ 1s). */
  schedule(key: string, intervalMs: number, task: () => Promise<void>): void {
    this.cancel(key);
    const job: Job = { timer: null, cancelled: false };
    this.#jobs.set(key, job);
    const plan = (delay: number) => {
      if (job.cancelled) return;
      job.timer = setTimeout(run, delay);
      job.timer.unref();
    };
    const again = () => plan(intervalMs * (1 + (this.#random() * 0.2 - 0.1)));
    const run = () => {
      job.timer = null;
      task().then(again, again);
    };
    plan(this.#random() * Math.min(intervalMs * 0.1, 1000));
  }

  cancel(key: string): void {
    const job = this.#jobs.get(key);
    if (job === undefined) return;
    job.cancelled = true;
    if (job.timer !== null) clearTimeout(job.timer);
    this.#jobs.delete(key);
  }

  cancelAll(): void {
    for (const key of [...this.#jobs.keys()]) this.cancel(key);
  }

  has(key: string): boolean {
    return this.#jobs.has(key);
  }
}
