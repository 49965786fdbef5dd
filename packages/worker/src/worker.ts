import type { LogFormat, LogLevel, ResolvedConfig } from '@rustlb/core';
import { dispatch, envelope, type Handlers, isEnvelope, type ToPrimary, type ToWorker } from '@rustlb/core/ipc';
import { DataPlane, ProxyContext } from '@rustlb/proxy';
import { createLogger, type LogSink, WorkerMetrics } from '@rustlb/telemetry';
import { Reporter } from './reporter.js';

/** Settings the primary passes in the environment when it forks a worker. */
export interface WorkerEnv {
  /** 0-based slot of this worker: its balancer offset and its `worker` label. */
  readonly slot: number;
  readonly workers: number;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
}

export function workerEnv(env: NodeJS.ProcessEnv = process.env): WorkerEnv {
  return {
    slot: Number(env.RUSTLB_WORKER_SLOT ?? '0'),
    workers: Number(env.RUSTLB_WORKERS ?? '1'),
    logLevel: (env.RUSTLB_LOG_LEVEL ?? 'info') as LogLevel,
    logFormat: (env.RUSTLB_LOG_FORMAT ?? 'json') as LogFormat,
  };
}

/** Backends that some frontend or route balances with least_connections. */
function leastConnectionBackends(config: ResolvedConfig): Set<string> {
  const out = new Set<string>();
  for (const f of config.frontends) {
    if (f.algorithm === 'least_connections') out.add(f.backend);
    for (const r of f.routes) if ((r.algorithm ?? f.algorithm) === 'least_connections') out.add(r.backend);
  }
  return out;
}

/**
 * A worker process: holds no authority. It builds the data plane from the configuration
 * and server table the primary sends, reports what it observes, and drains when told.
 */
export class Worker {
  readonly #log: LogSink;
  readonly #metrics = new WorkerMetrics();
  readonly #reporter: Reporter;
  readonly #plane: DataPlane;
  /** Config, topology and drain messages are handled one after the other, in order. */
  #queue: Promise<void> = Promise.resolve();
  /** Told to drain: a configuration that arrives later must not open listeners again. */
  #draining = false;

  constructor(env: WorkerEnv) {
    this.#log = createLogger({ level: env.logLevel, format: env.logFormat, base: { role: 'worker', worker: env.slot } });
    this.#reporter = new Reporter((m) => this.#send(m));
    const ctx = new ProxyContext(this.#metrics, this.#log.logger, this.#reporter);
    this.#plane = new DataPlane(ctx, env.slot, env.workers);
    this.#reporter.track(new Set(), () => this.#plane.tables?.slots.values() ?? []);
  }

  start(): void {
    process.on('message', (message: unknown) => {
      if (isEnvelope(message))
        dispatch(this.#handlers, message, (kind) => this.#log.logger.warn({ kind }, 'message of an unknown kind from the primary: dropped'));
    });
    // The primary decides when workers stop; a Ctrl-C reaching the whole process group is its to handle.
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => {});
    process.on('uncaughtException', (err) => {
      this.#log.logger.fatal({ err }, 'worker crashed (uncaught exception)');
      this.#log.flushSync();
      process.exit(1);
    });
    process.on('unhandledRejection', (err) => {
      this.#log.logger.fatal({ err }, 'worker crashed (unhandled rejection)');
      this.#log.flushSync();
      process.exit(1);
    });
    this.#send({ kind: 'hello' });
  }

  #send(message: ToPrimary, then?: () => void): void {
    if (process.connected && process.send !== undefined) process.send(envelope(message), undefined, {}, then);
    else then?.();
  }

  readonly #handlers: Handlers<ToWorker> = {
    config: (m) =>
      this.#enqueue(async () => {
        if (this.#draining) return;
        this.#log.logger.level = m.config.global.logLevel;
        const bindFailures = await this.#plane.apply(m.generation, m.config, m.topology);
        this.#reporter.track(leastConnectionBackends(m.config), () => this.#plane.tables?.slots.values() ?? []);
        this.#send({ kind: 'config-applied', generation: m.generation, bindFailures });
      }),
    topology: (m) => this.#enqueue(async () => this.#plane.topology(m.topology)),
    'conn-view': (m) => this.#plane.connView(m.counts),
    'metrics-collect': (m) => {
      this.#metrics.registry.getMetricsAsJSON().then(
        (metrics) =>
          this.#send({
            kind: 'metrics',
            seq: m.seq,
            metrics,
            figures: {
              activeConnections: this.#plane.openConnections,
              requests: this.#metrics.served,
              generation: this.#plane.generation,
              inFlight: this.#inFlight(),
            },
          }),
        (err: unknown) => this.#log.logger.error({ err }, 'collecting metrics failed'),
      );
    },
    drain: (m) => {
      this.#draining = true;
      this.#enqueue(async () => this.#drain(m.acceptForMs));
    },
  };

  /** What this worker has in flight per server, read from its slots only when the primary asks (nothing on the hot path). */
  #inFlight(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const slot of this.#plane.tables?.slots.values() ?? []) if (slot.localActive > 0) out[slot.key] = slot.localActive;
    return out;
  }

  #enqueue(task: () => Promise<void>): void {
    this.#queue = this.#queue.then(task).catch((err: unknown) => {
      this.#log.logger.error({ err }, 'worker task failed');
    });
  }

  /**
   * Responses carry `Connection: close` at once; listeners keep accepting for the
   * shutdown delay, then stop; the worker exits when the last connection is gone.
   * The primary enforces the overall deadline.
   */
  async #drain(acceptForMs: number): Promise<void> {
    this.#plane.beginDrain();
    await new Promise((r) => setTimeout(r, acceptForMs));
    await this.#plane.stopAccepting();
    this.#plane.whenIdle(async () => {
      this.#plane.destroy();
      await this.#log.flush();
      // A last report, so the primary keeps what was counted since its last scrape.
      this.#send({
        kind: 'metrics',
        seq: 0,
        metrics: this.#metrics.snapshot(),
        figures: { activeConnections: 0, requests: this.#metrics.served, generation: this.#plane.generation, inFlight: {} },
      });
      this.#send({ kind: 'drained' }, () => process.exit(0));
    });
  }
}

/** Entry point of a worker process. */
export function runWorker(): void {
  new Worker(workerEnv()).start();
}
