import type { ConnCounts, PassiveFailure, PassiveFailureReason, PassiveReport } from '@rustlb/core/ipc';
import type { ProxyHooks, ServerSlot } from '@rustlb/proxy';

/** Passive failures are sent at most this often (batched, never one message per request). */
const FAILURE_FLUSH_MS = 50;
/** In-flight counts for least_connections are sent at most this often. */
const COUNTS_FLUSH_MS = 50;

/**
 * Collects what the data plane observes and sends it to the primary in batches:
 * passive failures (and the first success after them), and, for the servers of
 * least_connections backends, this worker's in-flight counts.
 */
export class Reporter implements ProxyHooks {
  readonly #send: (message: PassiveReport | ConnCounts) => void;
  readonly #failures = new Map<string, { key: string; reason: PassiveFailureReason; count: number }>();
  /** Keys reported as failing and not yet seen answering again. */
  readonly #failing = new Set<string>();
  readonly #successes = new Set<string>();
  #failureTimer: NodeJS.Timeout | null = null;
  #countsTimer: NodeJS.Timeout | null = null;
  /** Backends balanced by least_connections: only their counts travel. */
  #counted: ReadonlySet<string> = new Set();
  #slots: () => Iterable<ServerSlot> = () => [];

  constructor(send: (message: PassiveReport | ConnCounts) => void) {
    this.#send = send;
  }

  /** Which backends need cluster-wide counts, and where to read the slots from. */
  track(backends: ReadonlySet<string>, slots: () => Iterable<ServerSlot>): void {
    this.#counted = backends;
    this.#slots = slots;
  }

  passiveFailure(slot: ServerSlot, reason: PassiveFailureReason): void {
    const id = `${slot.key}\n${reason}`;
    const entry = this.#failures.get(id);
    if (entry === undefined) this.#failures.set(id, { key: slot.key, reason, count: 1 });
    else entry.count++;
    this.#failing.add(slot.key);
    this.#successes.delete(slot.key);
    this.#failureTimer ??= setTimeout(() => this.#flushFailures(), FAILURE_FLUSH_MS);
  }

  passiveSuccess(slot: ServerSlot): void {
    // Only a success that follows a reported failure matters to the primary.
    if (!this.#failing.has(slot.key)) return;
    this.#failing.delete(slot.key);
    this.#successes.add(slot.key);
    this.#failureTimer ??= setTimeout(() => this.#flushFailures(), FAILURE_FLUSH_MS);
  }

  activeChanged(slot: ServerSlot): void {
    if (this.#countsTimer !== null || !this.#counted.has(slot.backend)) return;
    this.#countsTimer = setTimeout(() => this.#flushCounts(), COUNTS_FLUSH_MS);
  }

  #flushFailures(): void {
    this.#failureTimer = null;
    const failures: PassiveFailure[] = [...this.#failures.values()];
    const successes = [...this.#successes];
    this.#failures.clear();
    this.#successes.clear();
    if (failures.length > 0 || successes.length > 0) this.#send({ kind: 'passive', failures, successes });
  }

  #flushCounts(): void {
    this.#countsTimer = null;
    const counts: Record<string, number> = {};
    for (const slot of this.#slots()) if (this.#counted.has(slot.backend)) counts[slot.key] = slot.localActive;
    this.#send({ kind: 'conn-counts', counts });
  }
}
