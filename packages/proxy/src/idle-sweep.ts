import type { Socket } from 'node:net';

/** A long-lived session (a TCP session, a WebSocket tunnel) an idle sweep looks at. */
export interface IdleWatched {
  /** Closes the session if its socket moved no byte either way for `timeoutMs`. */
  checkIdle(now: number, timeoutMs: number): void;
}

/**
 * Looks at a set of long-lived sessions four times per idle timeout (at most every
 * minute) while there are any. A sweep rather than a socket timer: a socket timeout
 * re-arms on every chunk, which costs on the hot path of a busy session; the sweep costs
 * once per interval.
 */
export class IdleSweep {
  readonly #sessions: ReadonlySet<IdleWatched>;
  readonly #timeoutMs: () => number;
  #timer: NodeJS.Timeout | null = null;

  /** `timeoutMs` is read at each sweep: a reload may change it. */
  constructor(sessions: ReadonlySet<IdleWatched>, timeoutMs: () => number) {
    this.#sessions = sessions;
    this.#timeoutMs = timeoutMs;
  }

  /** Starts sweeping, unless it already is (call when a session is added). */
  readonly watch = (): void => {
    if (this.#timer !== null) return;
    const every = Math.min(60_000, Math.max(50, this.#timeoutMs() / 4));
    this.#timer = setInterval(() => {
      if (this.#sessions.size === 0) {
        clearInterval(this.#timer as NodeJS.Timeout);
        this.#timer = null;
        return;
      }
      const now = performance.now();
      const timeoutMs = this.#timeoutMs();
      for (const s of this.#sessions) s.checkIdle(now, timeoutMs);
    }, every);
    this.#timer.unref();
  };
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
