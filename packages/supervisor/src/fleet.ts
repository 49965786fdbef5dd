import cluster, { type Worker } from 'node:cluster';
import { type BindFailure, type ConfigApplied, envelope, type Incoming, isEnvelope, type MetricsReply, type ToWorker } from '@rustlb/core/ipc';
import type { Logger } from '@rustlb/telemetry';

export type WorkerState = 'starting' | 'ready' | 'draining' | 'exited';

/**
 * One worker process as the primary knows it. Read-only outside this file: every change
 * is one of `Fleet`'s transitions, so there is one writer per field.
 */
export interface WorkerRecord {
  readonly worker: Worker;
  readonly slot: number;
  readonly pid: number;
  readonly startedAt: number;
  readonly state: WorkerState;
  readonly readyAt: number | null;
  /** Last configuration generation it acknowledged. */
  readonly generation: number;
  /** Frontends it could not listen on, for the generation it last applied. */
  readonly bindFailures: readonly BindFailure[];
  /** Its in-flight counts per server of least_connections backends, as last reported (about every 50 ms). */
  readonly connCounts: Readonly<Record<string, number>>;
  /** Its last answer to a metrics collection (or the one it sends before a planned exit). */
  readonly report: MetricsReply | null;
  readonly live: boolean;
}

class TrackedWorker implements WorkerRecord {
  readonly worker: Worker;
  readonly slot: number;
  readonly pid: number;
  readonly startedAt = Date.now();
  state: WorkerState = 'starting';
  readyAt: number | null = null;
  generation = 0;
  bindFailures: readonly BindFailure[] = [];
  connCounts: Readonly<Record<string, number>> = {};
  report: MetricsReply | null = null;
  /** We asked it to go (drain, rolling restart, shutdown): its exit is not a crash. */
  expectedExit = false;
  /** It said hello: it listens for messages (anything sent before is lost). */
  greeted = false;
  killTimer: NodeJS.Timeout | null = null;

  constructor(worker: Worker, slot: number) {
    this.worker = worker;
    this.slot = slot;
    this.pid = worker.process.pid ?? 0;
  }

  get live(): boolean {
    return this.state !== 'exited';
  }
}

export interface SlotHealth {
  /** Unexpected exits in a row, each within CRASH_WINDOW_MS of its start. */
  crashes: number;
  restarts: number;
  /** The last crash (deliberate stops are not recorded here). */
  lastExit: { pid: number; code: number | null; signal: string | null; at: number } | null;
  respawnAt: number | null;
}

export interface FleetOptions {
  readonly count: number;
  /** Environment of a worker in `slot` (its index, the worker count, log settings). */
  readonly env: (slot: number) => Record<string, string>;
  readonly logger: Logger;
  /** A rustlb message from a worker, its kind not checked yet (the supervisor dispatches it). */
  readonly onMessage: (record: WorkerRecord, message: Incoming) => void;
  /** A worker exited; `crashed` when we did not ask it to. */
  readonly onExit: (record: WorkerRecord, crashed: boolean) => void;
}

/** A worker that lived less than this before dying counts towards a crash loop. */
export const CRASH_WINDOW_MS = 10_000;
/** This many quick crashes in a row is a crash loop (shown in status). */
export const CRASH_LOOP = 3;
const BACKOFF_BASE_MS = 100;
export const BACKOFF_MAX_MS = 30_000;

/** Delay before respawning after the `crashes`-th quick crash in a row: doubling from 100 ms, capped at 30 s. */
export function respawnDelay(crashes: number): number {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(30, Math.max(0, crashes - 1)));
}

/**
 * The worker processes and everything the primary knows of each: fork, hello, applied
 * generation N (ready on the first), reports, draining, exit, and respawn with capped
 * exponential backoff after a crash (deliberate stops are told apart). One method per
 * transition; each wakes the waiters of {@link waitUntil}. The primary enforces the
 * drain deadline itself: a worker's `disconnect()` can wait forever on keep-alive sockets.
 */
export class Fleet {
  readonly #options: FleetOptions;
  readonly #records = new Map<number, TrackedWorker>();
  readonly #slots = new Map<number, SlotHealth>();
  readonly #respawnTimers = new Map<number, NodeJS.Timeout>();
  /** Exited workers whose IPC channel is still open, by pid: a last report may still arrive. */
  readonly #leaving = new Map<number, TrackedWorker>();
  readonly #waiters = new Set<() => void>();
  #stopping = false;

  constructor(options: FleetOptions) {
    this.#options = options;
  }

  get count(): number {
    return this.#options.count;
  }

  start(): void {
    // A shutdown that came while the primary was still starting: nothing to start.
    if (this.#stopping) return;
    for (let slot = 0; slot < this.#options.count; slot++) this.fork(slot);
  }

  // ---- transitions ----------------------------------------------------------------------

  /** Forked, starting. `deliberate`: an operator's rolling restart, which also ends a crash loop's backoff. */
  fork(slot: number, deliberate = false): WorkerRecord {
    const worker = cluster.fork(this.#options.env(slot));
    const record = new TrackedWorker(worker, slot);
    this.#records.set(worker.id, record);
    const health = this.#slots.get(slot);
    if (health === undefined) this.#slots.set(slot, { crashes: 0, restarts: 0, lastExit: null, respawnAt: null });
    else if (deliberate) health.crashes = 0;
    worker.on('message', (message: unknown) => {
      if (!isEnvelope(message)) return;
      if (message.kind === 'hello') record.greeted = true;
      this.#options.onMessage(record, message);
    });
    worker.on('error', (err) => this.#options.logger.warn({ err, worker: slot, workerPid: record.pid }, 'worker IPC error'));
    worker.on('exit', (code, signal) => this.#exited(record, code, signal));
    this.#options.logger.info({ worker: slot, workerPid: record.pid }, 'worker forked');
    this.#wake();
    return record;
  }

  /** It applied a configuration generation; the first one without a bind failure makes it ready. */
  applied(r: WorkerRecord, m: ConfigApplied): void {
    const record = this.#own(r);
    if (record === undefined) return;
    record.generation = Math.max(record.generation, m.generation);
    record.bindFailures = m.bindFailures;
    for (const f of m.bindFailures) this.#options.logger.error({ worker: record.slot, ...f }, 'frontend could not listen');
    if (record.state === 'starting' && m.bindFailures.length === 0) {
      record.state = 'ready';
      record.readyAt = Date.now();
      this.#options.logger.info(
        { worker: record.slot, workerPid: record.pid, generation: m.generation, startupMs: record.readyAt - record.startedAt },
        'worker ready',
      );
    }
    this.#wake();
  }

  /** Its in-flight counts per least_connections server. */
  counted(r: WorkerRecord, counts: Readonly<Record<string, number>>): void {
    const record = this.#own(r);
    if (record !== undefined) record.connCounts = counts;
  }

  /** Its metrics report; also read after it exited, until the metrics hub has kept its counters. */
  reported(r: WorkerRecord, reply: MetricsReply): void {
    const record = this.#own(r) ?? this.#leaving.get(r.pid);
    if (record !== undefined) record.report = reply;
  }

  /** Draining: asked to stop accepting and exit; killed at the deadline if it has not. */
  retire(r: WorkerRecord, acceptForMs: number, deadlineMs: number, reason: string): void {
    const record = this.#own(r);
    if (record === undefined || !record.live || record.state === 'draining') return;
    record.expectedExit = true;
    record.state = 'draining';
    this.#options.logger.info({ worker: record.slot, workerPid: record.pid, reason, acceptForMs, deadlineMs }, 'worker draining');
    this.#wake();
    if (!record.greeted) {
      // Still loading: a drain message would be lost, and it holds no connection yet.
      record.worker.process.kill('SIGKILL');
      return;
    }
    this.send(record, { kind: 'drain', acceptForMs });
    record.killTimer = setTimeout(() => {
      if (!record.live) return;
      this.#options.logger.warn({ worker: record.slot, workerPid: record.pid }, 'worker did not finish draining in time: killing it');
      record.worker.process.kill('SIGKILL');
    }, deadlineMs);
  }

  /** Exited: a crash schedules the slot's respawn (restarted), a deliberate stop does not. */
  #exited(record: TrackedWorker, code: number | null, signal: string | null): void {
    record.state = 'exited';
    if (record.killTimer !== null) clearTimeout(record.killTimer);
    const crashed = !record.expectedExit && !this.#stopping;
    const slot = this.#slots.get(record.slot) as SlotHealth;
    const log = this.#options.logger;
    if (!crashed) {
      log.info({ worker: record.slot, workerPid: record.pid, code, signal, uptimeMs: Date.now() - record.startedAt }, 'worker exited');
    } else if (this.live().some((r) => r !== record && r.slot === record.slot && r.state !== 'draining')) {
      // A replacement is already up (a rolling restart's new worker while the old one crashed): nothing to respawn.
      slot.lastExit = { pid: record.pid, code, signal, at: Date.now() };
      slot.restarts++;
      log.error({ worker: record.slot, workerPid: record.pid, code, signal }, 'worker died unexpectedly; its replacement is already running');
    } else {
      slot.lastExit = { pid: record.pid, code, signal, at: Date.now() };
      slot.crashes = Date.now() - record.startedAt < CRASH_WINDOW_MS ? slot.crashes + 1 : 1;
      slot.restarts++;
      const delay = respawnDelay(slot.crashes);
      slot.respawnAt = Date.now() + delay;
      log.error(
        { worker: record.slot, workerPid: record.pid, code, signal, respawnInMs: delay, crashesInARow: slot.crashes, crashLoop: slot.crashes >= CRASH_LOOP },
        'worker died unexpectedly; respawning',
      );
      const timer = setTimeout(() => {
        this.#respawnTimers.delete(record.slot);
        slot.respawnAt = null;
        if (this.#stopping) return;
        const replacement = this.fork(record.slot);
        log.info({ worker: record.slot, workerPid: replacement.pid, replaces: record.pid }, 'worker respawned');
      }, delay);
      this.#respawnTimers.set(record.slot, timer);
    }
    this.#records.delete(record.worker.id);
    if (record.worker.isConnected()) {
      this.#leaving.set(record.pid, record);
      record.worker.once('disconnect', () => this.#leaving.delete(record.pid));
    }
    this.#options.onExit(record, crashed);
    this.#wake();
  }

  // ---- reading ------------------------------------------------------------------------

  /** Live workers, oldest first. */
  live(): WorkerRecord[] {
    return [...this.#records.values()].filter((r) => r.live);
  }

  /** Live workers not draining: those the configuration in force must reach. */
  serving(): WorkerRecord[] {
    return this.live().filter((r) => r.state !== 'draining');
  }

  /** Every worker not yet exited, draining ones included. */
  all(): WorkerRecord[] {
    return [...this.#records.values()];
  }

  /** Every serving worker, and at least one, applied `generation` (or a later one). */
  caughtUp(generation: number): boolean {
    const serving = this.serving();
    return serving.length > 0 && serving.every((r) => r.generation >= generation);
  }

  /** Frontends live workers could not listen on. */
  bindFailures(): BindFailure[] {
    return this.live().flatMap((r) => r.bindFailures);
  }

  /** Requests and sessions in flight per server key over every live worker, as of their last reports. */
  inFlight(): Map<string, number> {
    const out = new Map<string, number>();
    for (const r of this.live()) {
      for (const [key, n] of Object.entries(r.report?.figures.inFlight ?? {})) out.set(key, (out.get(key) ?? 0) + n);
    }
    return out;
  }

  slotHealth(slot: number): SlotHealth | undefined {
    return this.#slots.get(slot);
  }

  /** Slots with no live worker, waiting for a respawn. */
  waiting(): { slot: number; health: SlotHealth }[] {
    const live = new Set(this.live().map((r) => r.slot));
    return [...this.#slots].filter(([slot, h]) => !live.has(slot) && h.respawnAt !== null).map(([slot, health]) => ({ slot, health }));
  }

  /** Crashing again and again: no worker of the slot has stayed up for CRASH_WINDOW_MS since. */
  inCrashLoop(slot: number): boolean {
    const health = this.#slots.get(slot);
    if (health === undefined || health.crashes < CRASH_LOOP) return false;
    const now = Date.now();
    return !this.live().some((r) => r.slot === slot && r.state === 'ready' && now - r.startedAt >= CRASH_WINDOW_MS);
  }

  /**
   * Resolves true once `condition` holds (checked now and after every transition), false
   * at the timeout or when `signal` aborts (a shutdown: nobody waits for workers then).
   */
  waitUntil(condition: () => boolean, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        signal?.removeEventListener('abort', aborted);
        resolve(ok);
      };
      const check = () => {
        if (condition()) done(true);
      };
      const aborted = () => done(false);
      const timer = setTimeout(aborted, timeoutMs);
      if (signal?.aborted) return aborted();
      signal?.addEventListener('abort', aborted);
      this.#waiters.add(check);
      check();
    });
  }

  // ---- messages and stopping ----------------------------------------------------------

  send(record: WorkerRecord, message: ToWorker): void {
    if (!record.live || !record.worker.isConnected()) return;
    try {
      record.worker.send(envelope(message));
    } catch (err) {
      this.#options.logger.warn({ err, worker: record.slot }, 'sending to a worker failed');
    }
  }

  broadcast(message: ToWorker): void {
    for (const r of this.#records.values()) if (r.state === 'starting' || r.state === 'ready') this.send(r, message);
  }

  /** Resolves when `record` has exited. */
  exited(record: WorkerRecord): Promise<void> {
    if (!record.live) return Promise.resolve();
    return new Promise((resolve) => record.worker.once('exit', () => resolve()));
  }

  /** Shutdown: every worker drains; no more respawns. Resolves when all are gone. */
  async stop(acceptForMs: number, timeoutMs: number): Promise<void> {
    this.#stopping = true;
    for (const t of this.#respawnTimers.values()) clearTimeout(t);
    this.#respawnTimers.clear();
    const live = this.live();
    for (const r of live) this.retire(r, acceptForMs, acceptForMs + timeoutMs, 'shutdown');
    await Promise.all(live.map((r) => this.exited(r)));
  }

  /** Second Ctrl-C: no waiting. */
  killAll(): void {
    this.#stopping = true;
    for (const r of this.live()) r.worker.process.kill('SIGKILL');
  }

  /** The mutable record behind a read-only one, while it is live. */
  #own(r: WorkerRecord): TrackedWorker | undefined {
    const record = this.#records.get(r.worker.id);
    return record === r ? record : undefined;
  }

  #wake(): void {
    for (const check of [...this.#waiters]) check();
  }
}
