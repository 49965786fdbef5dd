import { get } from './http-client.js';
import { waitFor } from './wait.js';

/** One request of a TaggedLoad: when it was sent, what came back (body = upstream name). */
export interface TaggedResult {
  readonly id: number;
  readonly sentAt: number;
  readonly doneAt: number;
  readonly status: number;
  readonly body: string;
  readonly error: string | null;
}

const TAG = /^\/tag\/(\d+)\/(\d+)/;

/** The send time written in a tagged request's path, as an upstream or an access log saw it. */
export function taggedSentAt(path: string): number | null {
  const m = TAG.exec(path);
  return m === null ? null : Number(m[2]);
}

/**
 * HTTP GET clients in a loop, each request on a new connection (so the kernel spreads
 * them over the workers), with its id and send time in the path (`/tag/<id>/<ms>`). An
 * upstream or an access log line can then tell when the request it saw was sent: a
 * test can check that nothing sent after a moment reached some server.
 */
export class TaggedLoad {
  readonly results: TaggedResult[] = [];
  #next = 0;
  #running = true;
  readonly #loops: Promise<void>[] = [];

  constructor(port: number, concurrency: number, timeoutMs = 10_000) {
    for (let i = 0; i < concurrency; i++) {
      this.#loops.push(
        (async () => {
          while (this.#running) {
            const id = this.#next++;
            const sentAt = Date.now();
            try {
              const r = await get(port, { path: `/tag/${id}/${sentAt}`, timeoutMs });
              this.results.push({ id, sentAt, doneAt: Date.now(), status: r.status, body: r.text.trim(), error: null });
            } catch (err) {
              const e = err as NodeJS.ErrnoException;
              this.results.push({ id, sentAt, doneAt: Date.now(), status: 0, body: '', error: `${e.code ?? ''} ${e.message}`.trim() });
            }
          }
        })(),
      );
    }
  }

  /** Results of requests sent at or after `t`. */
  sentSince(t: number): TaggedResult[] {
    return this.results.filter((r) => r.sentAt >= t);
  }

  /** Requests that did not get a 2xx answer. */
  failures(): TaggedResult[] {
    return this.results.filter((r) => r.error !== null || r.status < 200 || r.status > 299);
  }

  /** Waits until `n` more requests have completed than when called. */
  async progress(n: number, timeoutMs = 15_000): Promise<void> {
    const target = this.results.length + n;
    await waitFor(() => this.results.length >= target, `${n} more tagged requests`, timeoutMs, 5);
  }

  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#loops);
  }
}
