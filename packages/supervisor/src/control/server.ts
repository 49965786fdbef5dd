import { chmodSync, lstatSync, mkdirSync, type Stats, unlinkSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { CONTROL_COMMANDS, type ControlCommand, type ControlRequest, type ControlResponse, isRustlbError, RustlbError } from '@rustlb/core';
import type { Logger } from '@rustlb/telemetry';
import { disable } from './commands/disable.js';
import { drain } from './commands/drain.js';
import { enable } from './commands/enable.js';
import { reload } from './commands/reload.js';
import { restartWorkers } from './commands/restart-workers.js';
import { status } from './commands/status.js';
import type { CommandHandler, ControlTarget } from './target.js';

const COMMANDS: Readonly<Record<ControlCommand, CommandHandler>> = {
  reload,
  status,
  drain,
  enable,
  disable,
  'restart-workers': restartWorkers,
};

/**
 * Runs one control command against the daemon: what the socket does for `rustlb-ctl`,
 * and what the status page's buttons do, so both go through the same code.
 */
export function runCommand(target: ControlTarget, request: ControlRequest): Promise<unknown> {
  return COMMANDS[request.command](target, request);
}

/** A request line longer than this is refused (nothing legitimate comes close). */
const MAX_LINE = 64 * 1024;
/** A connection idle this long is closed (rustlb-ctl sends its request at once). */
const IDLE_MS = 60_000;

/** Is something answering on this socket path? */
function answering(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * The Unix control socket `rustlb-ctl` talks to: mode 0600, one JSON request per line,
 * one JSON answer per line. A malformed request gets an error answer; the daemon is
 * never harmed by what arrives here.
 */
export class ControlServer {
  readonly #path: string;
  readonly #target: ControlTarget;
  readonly #logger: Logger;
  readonly #server: Server;

  constructor(path: string, target: ControlTarget, logger: Logger) {
    this.#path = path;
    this.#target = target;
    this.#logger = logger;
    this.#server = createServer((socket) => this.#connection(socket));
  }

  async listen(): Promise<void> {
    if (await answering(this.#path)) {
      throw new RustlbError('RLB_ERR_BIND', `another rustlb is already running with control socket ${this.#path}`);
    }
    let existing: Stats | null = null;
    try {
      existing = lstatSync(this.#path);
    } catch {
      // None there.
    }
    if (existing !== null && !existing.isSocket()) {
      // A misconfigured path must not cost the operator a file.
      throw new RustlbError('RLB_ERR_BIND', `cannot create control socket ${this.#path}: a file that is not a socket is in the way`);
    }
    // A stale socket of a run that crashed.
    if (existing !== null) unlinkSync(this.#path);
    mkdirSync(dirname(this.#path), { recursive: true });
    // Created 0600 from the start (umask), not made private after a window.
    const umask = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        this.#server.once('error', (err: NodeJS.ErrnoException) =>
          reject(new RustlbError('RLB_ERR_BIND', `cannot create control socket ${this.#path}: ${err.message}`, { cause: err })),
        );
        this.#server.listen(this.#path, () => resolve());
      });
    } finally {
      process.umask(umask);
    }
    chmodSync(this.#path, 0o600);
  }

  close(): void {
    // Only a socket this process created is removed: a start that failed because another
    // rustlb answers on the path must leave that one's socket alone.
    if (!this.#server.listening) return;
    this.#server.close();
    try {
      unlinkSync(this.#path);
    } catch {
      // Already gone.
    }
  }

  #connection(socket: Socket): void {
    socket.setEncoding('utf8');
    socket.on('error', () => {});
    // A client that connects and says nothing holds no resources for long.
    socket.setTimeout(IDLE_MS, () => socket.destroy());
    let buffer = '';
    const onData = (chunk: string) => {
      buffer += chunk;
      let nl = buffer.indexOf('\n');
      while (nl >= 0) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        if (line !== '') void this.#request(socket, line);
        nl = buffer.indexOf('\n');
      }
      if (buffer.length > MAX_LINE) {
        // Stop reading (and buffering) at once; answer, then close.
        socket.off('data', onData);
        socket.pause();
        buffer = '';
        this.#answer(socket, {
          id: null,
          ok: false,
          error: { code: 'RLB_ERR_CONTROL_REQUEST', message: `request too long (a request is one JSON line of at most ${MAX_LINE} bytes)` },
        });
        socket.end();
      }
    };
    socket.on('data', onData);
  }

  async #request(socket: Socket, line: string): Promise<void> {
    let request: ControlRequest;
    try {
      request = parseRequest(line);
    } catch (err) {
      this.#answer(socket, { id: null, ok: false, error: { code: 'RLB_ERR_CONTROL_REQUEST', message: (err as Error).message } });
      return;
    }
    try {
      const result = await runCommand(this.#target, request);
      this.#answer(socket, { id: request.id, ok: true, result });
    } catch (err) {
      if (!isRustlbError(err)) this.#logger.error({ err, command: request.command }, 'control command failed');
      const error = isRustlbError(err)
        ? { code: err.code, message: err.message, ...(err.details === undefined ? {} : { details: err.details }) }
        : { code: 'RLB_ERR_INTERNAL', message: (err as Error).message };
      this.#answer(socket, { id: request.id, ok: false, error });
    }
  }

  #answer(socket: Socket, response: ControlResponse): void {
    if (!socket.destroyed) socket.write(`${JSON.stringify(response)}\n`);
  }
}

function parseRequest(line: string): ControlRequest {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new Error('a request is one JSON object per line, e.g. {"id":1,"command":"status"}');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('a request is a JSON object, e.g. {"id":1,"command":"status"}');
  const r = value as Record<string, unknown>;
  if (r.command === undefined) throw new Error(`a request names a command (known: ${CONTROL_COMMANDS.join(', ')})`);
  if (typeof r.command !== 'string' || !(CONTROL_COMMANDS as readonly string[]).includes(r.command)) {
    throw new Error(`unknown command ${JSON.stringify(r.command)} (known: ${CONTROL_COMMANDS.join(', ')})`);
  }
  if (r.server !== undefined && typeof r.server !== 'string') throw new Error('"server" is a string, BACKEND/ADDRESS');
  const id = typeof r.id === 'number' ? r.id : 0;
  return { id, command: r.command as ControlCommand, ...(typeof r.server === 'string' ? { server: r.server } : {}) };
}
