import { Agent } from 'node:http';
import { connect, type Socket } from 'node:net';
import { get } from './http-client.js';
import { waitFor } from './wait.js';

/** One request or session that went wrong, with when it started and ended (ms since epoch). */
export interface LoadFailure {
  readonly client: string;
  readonly started: number;
  readonly at: number;
  readonly error: string;
}

/**
 * Clients that keep hammering a frontend until stopped, counting what went right and
 * recording, with timestamps, everything that went wrong (a non-2xx status, a reset,
 * a timeout, a wrong echo).
 */
export class Load {
  readonly name: string;
  ok = 0;
  readonly failures: LoadFailure[] = [];
  /** Requests or sessions in progress right now. */
  inFlight = 0;
  #running = true;
  readonly #loops: Promise<void>[] = [];
  readonly #cleanup: (() => void)[] = [];

  constructor(name: string) {
    this.name = name;
  }

  get running(): boolean {
    return this.#running;
  }

  /** @internal */
  add(loop: Promise<void>, cleanup?: () => void): void {
    this.#loops.push(loop);
    if (cleanup !== undefined) this.#cleanup.push(cleanup);
  }

  /** @internal */
  fail(client: string, started: number, error: string): void {
    this.failures.push({ client, started, at: Date.now(), error });
  }

  /** Waits until `n` more operations have succeeded than when called. */
  async progress(n = 1, timeoutMs = 10_000): Promise<void> {
    const target = this.ok + n;
    await waitFor(() => this.ok >= target || this.failures.length > 100, `${this.name} to complete ${n} more`, timeoutMs, 5);
  }

  /** Stops issuing new work and waits for what is in progress. */
  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#loops);
    for (const c of this.#cleanup) c();
  }

  describe(): string {
    const sample = this.failures
      .slice(0, 5)
      .map((f) => `${f.client}: ${f.error}`)
      .join('; ');
    return `${this.name}: ${this.ok} ok, ${this.failures.length} failed${sample === '' ? '' : ` (${sample})`}`;
  }
}

export interface HttpLoadOptions {
  /** Parallel clients. */
  readonly concurrency: number;
  /** Reuse one connection per client (keep-alive), or a new connection per request. */
  readonly keepAlive: boolean;
  readonly path?: string;
  readonly timeoutMs?: number;
  /** Extra verdict on a 2xx response: a message makes it a failure. */
  readonly check?: (status: number, text: string) => string | null;
}

/** HTTP GET clients in a loop against 127.0.0.1:port. */
export function httpLoad(name: string, port: number, options: HttpLoadOptions): Load {
  const load = new Load(name);
  for (let i = 0; i < options.concurrency; i++) {
    const agent = options.keepAlive ? new Agent({ keepAlive: true, maxSockets: 1 }) : undefined;
    const client = `${name}#${i}`;
    const loop = (async () => {
      while (load.running) {
        const started = Date.now();
        load.inFlight++;
        try {
          const r = await get(port, { path: options.path ?? '/', timeoutMs: options.timeoutMs ?? 10_000, ...(agent === undefined ? {} : { agent }) });
          const verdict = r.status < 200 || r.status > 299 ? `status ${r.status}: ${r.text.slice(0, 200)}` : (options.check?.(r.status, r.text) ?? null);
          if (verdict === null) load.ok++;
          else load.fail(client, started, verdict);
        } catch (err) {
          load.fail(client, started, `${(err as NodeJS.ErrnoException).code ?? ''} ${(err as Error).message}`.trim());
        } finally {
          load.inFlight--;
        }
      }
    })();
    load.add(loop, () => agent?.destroy());
  }
  return load;
}

/** Writes `message`, reads until the same bytes came back, then resolves (the socket stays open). */
function echo(socket: Socket, message: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let got = '';
    const timer = setTimeout(() => finish(new Error(`no echo within ${timeoutMs}ms (got ${JSON.stringify(got)})`)), timeoutMs);
    const finish = (err?: Error) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
      if (err === undefined) resolve();
      else reject(err);
    };
    const onData = (chunk: Buffer) => {
      got += chunk.toString('latin1');
      if (got.length >= message.length)
        finish(got === message ? undefined : new Error(`echo mismatch: sent ${message.length} bytes, got ${JSON.stringify(got.slice(0, 80))}`));
    };
    const onError = (err: NodeJS.ErrnoException) => finish(new Error(`${err.code ?? ''} ${err.message}`.trim()));
    const onClose = () => finish(new Error(`connection closed after ${got.length} of ${message.length} echoed bytes`));
    socket.on('data', onData);
    socket.once('error', onError);
    socket.once('close', onClose);
    socket.write(message);
  });
}

function open(port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    const timer = setTimeout(() => s.destroy(new Error(`connect timed out after ${timeoutMs}ms`)), timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** Ends our side and waits for a clean close (FIN, not a reset). */
function closeCleanly(socket: Socket, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let failed: Error | null = null;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close within ${timeoutMs}ms`));
    }, timeoutMs);
    socket.on('error', (err: NodeJS.ErrnoException) => {
      failed = new Error(`${err.code ?? ''} ${err.message}`.trim());
    });
    socket.once('close', () => {
      clearTimeout(timer);
      if (failed === null) resolve();
      else reject(failed);
    });
    socket.resume();
    socket.end();
  });
}

export interface TcpLoadOptions {
  readonly concurrency: number;
  /** `fresh`: connect, one echo, close, repeat. `session`: one connection per client, echoing over and over. */
  readonly mode: 'fresh' | 'session';
  readonly timeoutMs?: number;
}

/** TCP clients against an echo upstream behind 127.0.0.1:port. */
export function tcpLoad(name: string, port: number, options: TcpLoadOptions): Load {
  const load = new Load(name);
  const timeoutMs = options.timeoutMs ?? 10_000;
  for (let i = 0; i < options.concurrency; i++) {
    const client = `${name}#${i}`;
    const loop = (async () => {
      let n = 0;
      if (options.mode === 'fresh') {
        while (load.running) {
          const started = Date.now();
          load.inFlight++;
          try {
            const s = await open(port, timeoutMs);
            await echo(s, `${client} ${n++} ${'x'.repeat(64)}\n`, timeoutMs);
            await closeCleanly(s, timeoutMs);
            load.ok++;
          } catch (err) {
            load.fail(client, started, (err as Error).message);
          } finally {
            load.inFlight--;
          }
        }
        return;
      }
      const started = Date.now();
      let s: Socket;
      try {
        s = await open(port, timeoutMs);
      } catch (err) {
        load.fail(client, started, (err as Error).message);
        return;
      }
      s.on('error', () => {});
      try {
        while (load.running) {
          load.inFlight++;
          try {
            await echo(s, `${client} ${n++}\n`, timeoutMs);
            load.ok++;
          } finally {
            load.inFlight--;
          }
          // Yield, so a session is an open connection with gaps, not a busy loop.
          await new Promise((r) => setImmediate(r));
        }
        await closeCleanly(s, timeoutMs);
      } catch (err) {
        load.fail(client, started, (err as Error).message);
        s.destroy();
      }
    })();
    load.add(loop);
  }
  return load;
}
