import { randomBytes } from 'node:crypto';
import type { Logger, WorkerMetrics } from '@rustlb/telemetry';
import { NO_HOOKS, type ProxyHooks } from './hooks.js';

/**
 * Request ids: a random per-process prefix and a counter. Unique across workers and
 * restarts, and costs one string concatenation per request.
 */
export class RequestIds {
  readonly #prefix = `${randomBytes(6).toString('hex')}-`;
  #next = 0;

  next(): string {
    this.#next++;
    return this.#prefix + this.#next.toString(36);
  }
}

/** What every frontend of a worker shares; the worker updates it on reload and drain. */
export class ProxyContext {
  readonly metrics: WorkerMetrics;
  readonly hooks: ProxyHooks;
  readonly ids = new RequestIds();
  logger: Logger;
  accessLog = true;
  /** Shutting down: responses carry `Connection: close`, idle connections are closed. */
  draining = false;

  constructor(metrics: WorkerMetrics, logger: Logger, hooks: ProxyHooks = NO_HOOKS) {
    this.metrics = metrics;
    this.logger = logger;
    this.hooks = hooks;
  }
}
