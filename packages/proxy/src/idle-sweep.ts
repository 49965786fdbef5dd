import type { Socket } from 'node:net';

/** A long-lived session (a TCP session, a WebSocket tunnel) an idle sweep looks at. */
export interface IdleWatched {
  /** Closes the session if its socket moved no byte either way for `timeoutMs`. */
  checkIdle(now: number, timeoutMs: number): void;
}

/**
 * Visits every item of a set on a timer while the set has any: how the data plane
 * enforces its timeouts. A sweep rather than a timer per socket: a socket timeout re-arms
 * on every chunk, which costs on the hot path, and a timer per idle keep-alive connection
 * costs memory; the sweep costs once per period.
 */
export class Sweep<T> {
  readonly #items: ReadonlySet<T>;
  readonly #every: () => number;
  readonly #visit: (item: T, now: number) => void;
  #timer: NodeJS.Timeout | null = null;
  #ms = 0;

  /** `every` (the period, ms) is read when the sweep starts and by `retime`: a reload may change it. */
  constructor(items: ReadonlySet<T>, every: () => number, visit: (item: T, now: number) => void) {
    this.#items = items;
    this.#every = every;
    this.#visit = visit;
  }

  /** Starts sweeping, unless it already is (call when an item is added). */
  readonly watch = (): void => {
    if (this.#timer !== null) return;
    this.#ms = this.#every();
    this.#timer = setInterval(() => {
      if (this.#items.size === 0) return this.stop();
      const now = performance.now();
      for (const item of this.#items) this.#visit(item, now);
    }, this.#ms);
    this.#timer.unref();
  };

  /** A new period (a reload): a running sweep takes it now. */
  retime(): void {
    if (this.#timer === null || this.#every() === this.#ms) return;
    this.stop();
    this.watch();
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }
}

/**
 * The idle sweep of long-lived sessions (TCP sessions, WebSocket tunnels): four looks per
 * idle timeout (between 50 ms and a minute), each closing a session idle for `timeoutMs`.
 */
export function idleSweep(sessions: ReadonlySet<IdleWatched>, timeoutMs: () => number): Sweep<IdleWatched> {
  return new Sweep(
    sessions,
    () => Math.min(60_000, Math.max(50, timeoutMs() / 4)),
    (s, now) => s.checkIdle(now, timeoutMs()),
  );
}

/**
 * How long a byte counter has stood still, as the sweeps see it: each look passes the
 * counter's value now, and gets the milliseconds since the look that last saw it change
 * (0 when this one did). Sweeps instead of a timer re-armed per chunk: nothing on the
 * hot path. Every "no byte for N ms" rule of the data plane reads one of these.
 */
export class ByteClock {
  #bytes: number;
  #at: number;

  /** `startAt`: counting from then, at 0 bytes; absent: counting from the first look. */
  constructor(startAt?: number) {
    this.#bytes = startAt === undefined ? -1 : 0;
    this.#at = startAt ?? 0;
  }

  /** Milliseconds since `bytes` last changed. */
  stillFor(bytes: number, now: number): number {
    if (bytes !== this.#bytes) {
      this.#bytes = bytes;
      this.#at = now;
      return 0;
    }
    return now - this.#at;
  }

  /** Counts from now, at `bytes` (a wait that was not the peer's is over). */
  restart(bytes: number, now: number): void {
    this.#bytes = bytes;
    this.#at = now;
  }

  /** Counts from the next look, whatever the counter says then. */
  forget(): void {
    this.#bytes = -1;
  }
}

/** Bytes moved either way on `socket`: what idle and stall rules watch. */
export function bytesMoved(socket: Socket): number {
  return socket.bytesRead + socket.bytesWritten;
}
