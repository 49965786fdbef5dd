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

/** When a socket last moved a byte either way, as the sweeps see it. */
export class IdleClock {
  #lastBytes = 0;
  #lastActive = performance.now();

  /** Milliseconds since `socket` last moved a byte, as of the sweeps so far. */
  idleFor(socket: Socket, now: number): number {
    const moved = socket.bytesRead + socket.bytesWritten;
    if (moved !== this.#lastBytes) {
      this.#lastBytes = moved;
      this.#lastActive = now;
    }
    return now - this.#lastActive;
  }
}
