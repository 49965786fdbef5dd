import { connect, type Socket } from 'node:net';

export interface ParsedResponse {
  readonly status: number;
  readonly reason: string;
  /** Lower-cased names; repeated fields joined with `, `. */
  readonly headers: Record<string, string>;
  /** Names and values exactly as sent, in order. */
  readonly rawHeaders: readonly [string, string][];
  readonly body: Buffer;
  /** The whole message as it came on the wire (latin1). */
  readonly raw: string;
}

/** Statuses that never carry a body (RFC 9112 §6.3). */
function bodiless(status: number, head: boolean): boolean {
  return head || (status >= 100 && status < 200) || status === 204 || status === 304;
}

/**
 * One client connection that speaks raw bytes and reads whole HTTP/1.1 responses one at
 * a time (Content-Length, chunked, or until close), so a test can check that a
 * keep-alive connection stays in sync after tricky messages.
 */
export class RawConnection {
  readonly socket: Socket;
  #buffer: Buffer = Buffer.alloc(0);
  #ended = false;
  #waiter: (() => void) | null = null;
  readonly closed: Promise<void>;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (c: Buffer) => {
      this.#buffer = this.#buffer.length === 0 ? c : Buffer.concat([this.#buffer, c]);
      this.#wake();
    });
    this.closed = new Promise((resolve) => {
      const done = () => {
        this.#ended = true;
        this.#wake();
        resolve();
      };
      socket.once('end', done);
      socket.once('close', done);
    });
    socket.on('error', () => {});
  }

  static open(port: number, host = '127.0.0.1'): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host, noDelay: true });
      socket.once('connect', () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  /** True once the server closed its side (FIN or reset). */
  get ended(): boolean {
    return this.#ended;
  }

  /** Bytes received and not consumed by a read yet. */
  get pending(): Buffer {
    return this.#buffer;
  }

  write(bytes: string | Buffer): void {
    this.socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = null;
    w?.();
  }

  /** Waits until `ready` returns a value (called on every new chunk), the connection ends, or the timeout. */
  async #until<T>(ready: () => T | null, timeoutMs: number, what: string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = ready();
      if (v !== null) return v;
      if (this.#ended) throw new Error(`connection closed while waiting for ${what}; got ${JSON.stringify(this.#buffer.toString('latin1').slice(0, 300))}`);
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}; got ${JSON.stringify(this.#buffer.toString('latin1').slice(0, 300))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /**
   * Reads the next complete response. `head: true` for a response to HEAD. A 1xx
   * interim response is returned on its own (read again for the final one).
   */
  async read(options: { head?: boolean; timeoutMs?: number } = {}): Promise<ParsedResponse> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    const end = await this.#until(
      () => {
        const i = this.#buffer.indexOf('\r\n\r\n');
        return i < 0 ? null : i;
      },
      timeoutMs,
      'a response head',
    );
    const headText = this.#buffer.toString('latin1', 0, end);
    const lines = headText.split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3}) ?(.*)$/.exec(lines[0] ?? '');
    if (m === null) throw new Error(`not a status line: ${JSON.stringify(lines[0])}`);
    const status = Number(m[1]);
    const headers: Record<string, string> = {};
    const rawHeaders: [string, string][] = [];
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon);
      const value = line.slice(colon + 1).trim();
      rawHeaders.push([name, value]);
      const lower = name.toLowerCase();
      headers[lower] = headers[lower] === undefined ? value : `${headers[lower]}, ${value}`;
    }
    let at = end + 4;
    let body: Buffer;
    if (bodiless(status, options.head === true)) {
      body = Buffer.alloc(0);
    } else if (headers['transfer-encoding']?.toLowerCase().includes('chunked')) {
      const parts: Buffer[] = [];
      for (;;) {
        const lineEnd = await this.#until(
          () => {
            const i = this.#buffer.indexOf('\r\n', at);
            return i < 0 ? null : i;
          },
          timeoutMs,
          'a chunk size line',
        );
        const size = Number.parseInt(this.#buffer.toString('latin1', at, lineEnd), 16);
        at = lineEnd + 2;
        if (size === 0) {
          // Trailers, then the empty line.
          at = await this.#until(
            () => {
              if (this.#buffer.length >= at + 2 && this.#buffer[at] === 13 && this.#buffer[at + 1] === 10) return at + 2;
              const i = this.#buffer.indexOf('\r\n\r\n', at);
              return i < 0 ? null : i + 4;
            },
            timeoutMs,
            'the end of a chunked body',
          );
          break;
        }
        const start = at;
        await this.#until(() => (this.#buffer.length >= start + size + 2 ? true : null), timeoutMs, 'chunk data');
        parts.push(this.#buffer.subarray(start, start + size));
        at = start + size + 2;
      }
      body = Buffer.concat(parts);
    } else if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length']);
      const start = at;
      await this.#until(() => (this.#buffer.length >= start + length ? true : null), timeoutMs, `a body of ${length} bytes`);
      body = Buffer.from(this.#buffer.subarray(start, start + length));
      at = start + length;
    } else {
      // Delimited by the close of the connection.
      await this.#until(() => (this.#ended ? true : null), timeoutMs, 'the end of a close-delimited body').catch(() => {});
      body = Buffer.from(this.#buffer.subarray(at));
      at = this.#buffer.length;
    }
    const raw = this.#buffer.toString('latin1', 0, at);
    this.#buffer = this.#buffer.subarray(at);
    return { status, reason: m[2] ?? '', headers, rawHeaders, body, raw };
  }

  /** Resolves true when the server closes within `timeoutMs`, false otherwise. */
  async waitClosed(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([
      this.closed.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    return r;
  }

  destroy(): void {
    this.socket.destroy();
  }
}
