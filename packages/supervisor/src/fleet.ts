import cluster, { type Worker } from 'node:cluster';
import { envelope, type Incoming, isEnvelope, type ToWorker } from '@rustlb/core/ipc';
import type { Logger } from '@rustlb/telemetry';

export type WorkerState = 'starting' | 'ready' | 'draining' | 'exited';

/** One worker process as the primary tracks it. */
export class WorkerRecord {
  readonly worker: Worker;
  readonly slot: number;
  readonly pid: number;
  readonly startedAt = Date.now();
  state: WorkerState = 'starting';
  readyAt: number | null = null;
  /** Last configuration generation it acknowledged. */
  generation = 0;
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
 * The worker processes: fork, respawn with capped exponential backoff, deliberate stops
 * told apart from crashes, and a hard deadline the primary enforces itself (a worker's
 * `disconnect()` can wait forever on keep-alive sockets).
 */
export class Fleet {
  readonly #options: FleetOptions;
  readonly #records = new Map<number, WorkerRecord>();
  readonly #slots = new Map<number, SlotHealth>();
  readonly #respawnTimers = new Map<number, NodeJS.Timeout>();
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

  /** `deliberate`: an operator's rolling restart, which also ends a crash loop's backoff. */
  fork(slot: number, deliberate = false): WorkerRecord {
    const worker = cluster.fork(this.#options.env(slot));
    const record = new WorkerRecord(worker, slot);
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
    return record;
  }

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

  /** Live workers, oldest first. */
  live(): WorkerRecord[] {
    return [...this.#records.values()].filter((r) => r.live);
  }

  all(): WorkerRecord[] {
    return [...this.#records.values()];
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

  /** Asks a worker to drain and exit; kills it at the deadline if it has not. */
  retire(record: WorkerRecord, acceptForMs: number, deadlineMs: number, reason: string): void {
    if (!record.live || record.state === 'draining') return;
    record.expectedExit = true;
    record.state = 'draining';
    this.#options.logger.info({ worker: record.slot, workerPid: record.pid, reason, acceptForMs, deadlineMs }, 'worker draining');
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

  #exited(record: WorkerRecord, code: number | null, signal: string | null): void {
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
    this.#options.onExit(record, crashed);
  }
}
