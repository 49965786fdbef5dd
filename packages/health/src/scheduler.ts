interface Job {
  timer: NodeJS.Timeout | null;
  cancelled: boolean;
}

export interface SchedulerOptions {
  /** Source of the jitter, in [0, 1). */
  readonly random?: () => number;
  /** Monotonic clock in ms. */
  readonly now?: () => number;
}

function noop(): void {}

/** The jittered length of one period: intervalMs ± 10%. */
export function jittered(intervalMs: number, random: number): number {
  return intervalMs * (0.9 + random * 0.2);
}

/**
 * Runs one task per key on its own interval, jittered ±10% so that many servers are
 * not probed in one burst. Periods are measured from the start of one run to the start
 * of the next, so a slow probe (up to its timeout) does not stretch the interval and
 * there is one probe per interval; a run that outlasts its period is followed at once
 * by the next, never overlapped by it.
 */
export class JitteredScheduler {
  readonly #jobs = new Map<string, Job>();
  /** The run in progress per key; it outlives a cancel, so a rescheduled key waits for it. */
  readonly #running = new Map<string, Promise<void>>();
  readonly #random: () => number;
  readonly #now: () => number;

  constructor(options: SchedulerOptions = {}) {
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Starts (or restarts) `key`: the first run after a short random delay (≤ 10% of the interval, ≤ 1s). */
  schedule(key: string, intervalMs: number, task: () => Promise<void>): void {
    this.cancel(key);
    const job: Job = { timer: null, cancelled: false };
    this.#jobs.set(key, job);
    const plan = (delay: number) => {
      if (job.cancelled) return;
      job.timer = setTimeout(run, Math.max(0, delay));
      job.timer.unref();
    };
    const run = () => {
      job.timer = null;
      if (job.cancelled) return;
      const prior = this.#running.get(key);
      if (prior !== undefined) {
        // A run of the job this one replaced is still going: start when it ends.
        void prior.then(run);
        return;
      }
      const started = this.#now();
      let settled: Promise<void>;
      try {
        settled = task().then(noop, noop);
      } catch {
        settled = Promise.resolve();
      }
      this.#running.set(key, settled);
      void settled.then(() => {
        if (this.#running.get(key) === settled) this.#running.delete(key);
        plan(started + jittered(intervalMs, this.#random()) - this.#now());
      });
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
