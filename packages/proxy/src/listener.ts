import { createServer, type Server, type Socket } from 'node:net';
import { type HostPort, normalizeIp, RustlbError } from '@rustlb/core';
import { type ClientAddress, type IntakeEvents, type IntakeSettings, intake, PLAIN } from './intake.js';

const kOwner = Symbol('rustlb.listener');
const kHanded = Symbol('rustlb.handed');

/** The listening server knows its FrontendListener; an accepted socket knows its server, and the socket its frontend speaks to when that is another (TLS). */
type OwnedServer = Server & { [kOwner]?: FrontendListener };
type AcceptedSocket = Socket & { server?: OwnedServer; [kHanded]?: Socket };

// Nothing is stored on the sockets themselves: with 10,000 idle keep-alive connections,
// every per-socket property and listener closure shows in the memory they hold.
function onAdmittedClose(this: AcceptedSocket): void {
  this.server?.[kOwner]?.released(this);
}

function onQueuedClose(this: AcceptedSocket): void {
  this.server?.[kOwner]?.dequeue(this);
}

function ignoreError(): void {}

const NO_EVENTS: IntakeEvents = { proxyRejected() {}, tlsFailed() {}, tlsEstablished() {} };

function plainPeer(socket: Socket): ClientAddress {
  return { ip: normalizeIp(socket.remoteAddress), port: socket.remotePort ?? 0 };
}

/** Beyond this many waiting connections a worker closes new ones (the kernel backlog is full too by then). */
const MAX_QUEUE = 1024;

/** Which worker this is (0-based) of how many. */
export interface WorkerSlot {
  readonly slot: number;
  readonly workers: number;
}

/**
 * This worker's part of a cluster-wide `max_connections` (null: no limit). The parts add
 * up to exactly `max`: every worker gets `floor(max / workers)` and the first
 * `max % workers` slots one more (rounding each up would admit more than `max` in all).
 * With fewer connections than workers, the last slots get 0: they do not accept at all.
 */
export function workerShare(max: number | null, worker: WorkerSlot): number | null {
  if (max === null) return null;
  return Math.floor(max / worker.workers) + (worker.slot < max % worker.workers ? 1 : 0);
}

/**
 * The listening socket of one frontend in one worker (shared with the other workers
 * through node:cluster). Accepts connections paused and hands them to the frontend;
 * with `max_connections`, connections beyond the limit wait, unread, until a slot
 * frees, as they would in the kernel backlog. With a limit of 0 the worker does not
 * listen at all: a connection it accepted could never be admitted, while the kernel (or
 * the cluster primary) hands every connection to the workers that do listen.
 */
export class FrontendListener {
  readonly server: OwnedServer;
  readonly #accept: (socket: Socket, client: ClientAddress) => void;
  readonly #closed: ((socket: Socket) => void) | null;
  readonly #events: IntakeEvents | null;
  /** The PROXY header and TLS steps of the current generation. */
  #intake: IntakeSettings = PLAIN;
  #limit: number | null = null;
  #open = 0;
  readonly #queue: Socket[] = [];
  /** Where to listen, once `listen` was called (kept to listen again when a limit of 0 is raised). */
  #where: { address: HostPort; frontend: string } | null = null;
  /** Listening or about to. */
  #accepting = false;
  /** `close` was called: never listen again. */
  #stopped = false;

  /**
   * `accept` gets each admitted connection once through its intake (PROXY header, TLS),
   * with the client's address; `closed`, if given, hears when one closes (the socket
   * `accept` got); `events` counts what the intake refused.
   */
  constructor(accept: (socket: Socket, client: ClientAddress) => void, closed: ((socket: Socket) => void) | null = null, events: IntakeEvents | null = null) {
    this.#accept = accept;
    this.#closed = closed;
    this.#events = events;
    this.server = createServer({ pauseOnConnect: true, allowHalfOpen: true, noDelay: true }, (socket) => this.#onConnection(socket));
    this.server[kOwner] = this;
    this.server.on('error', ignoreError);
  }

  /** The intake of connections accepted from now on (a reload may change it). */
  setIntake(settings: IntakeSettings): void {
    this.#intake = settings;
  }

  listen(address: HostPort, frontend: string): Promise<void> {
    this.#where = { address, frontend };
    // Another worker (slot 0 always has a share) listens and reports a bind failure.
    if (this.#limit === 0) return Promise.resolve();
    return this.#bind();
  }

  #bind(): Promise<void> {
    const { address, frontend } = this.#where as { address: HostPort; frontend: string };
    this.#accepting = true;
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        this.#accepting = false;
        const where = address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
        const why = err.code === 'EADDRINUSE' ? 'address already in use' : err.code === 'EACCES' ? 'permission denied' : err.message;
        reject(
          new RustlbError('RLB_ERR_BIND', `frontend "${frontend}" cannot listen on ${where}: ${why}`, {
            cause: err,
            details: { code: err.code ?? 'UNKNOWN', address: where },
          }),
        );
      };
      this.server.once('error', onError);
      this.server.listen({ host: address.host, port: address.port, backlog: 511 }, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
  }

  /**
   * Connections this worker may have open at once (null: no limit; 0: do not listen).
   * Resolves once the worker listens again, when a reload raised its share from 0.
   */
  setLimit(limit: number | null): Promise<void> {
    this.#limit = limit;
    this.#admitWaiting();
    if (limit === 0) this.#stopListening();
    // The address is the one the other workers hold already (slot 0 always has a share).
    else if (!this.#accepting && this.#where !== null && !this.#stopped) return this.#bind();
    return Promise.resolve();
  }

  /** No new connections; the admitted ones go on, waiting ones (never to be admitted here) are closed. */
  #stopListening(): void {
    for (const s of this.#queue.splice(0)) s.destroy();
    if (!this.#accepting) return;
    this.#accepting = false;
    if (this.server.listening) this.server.close();
  }

  get open(): number {
    return this.#open;
  }

  /** Stops accepting; connections already admitted go on, waiting ones are closed. */
  close(): Promise<void> {
    this.#stopped = true;
    this.#accepting = false;
    for (const s of this.#queue.splice(0)) s.destroy();
    return new Promise((resolve) => {
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
    });
  }

  #onConnection(socket: Socket): void {
    if (this.#limit !== null && this.#open >= this.#limit) {
      if (this.#queue.length >= MAX_QUEUE) {
        socket.destroy();
        return;
      }
      socket.on('error', ignoreError);
      socket.once('close', onQueuedClose);
      this.#queue.push(socket);
      return;
    }
    this.#admit(socket);
  }

  #admit(socket: Socket): void {
    this.#open++;
    // `on`, not `once`: `once` allocates a wrapper per socket; 'close' comes once anyway.
    socket.on('close', onAdmittedClose);
    if (this.#intake === PLAIN) this.#accept(socket, plainPeer(socket));
    else
      intake(socket, this.#intake, this.#events ?? NO_EVENTS, (handed, client) => {
        if (handed !== socket) (socket as AcceptedSocket)[kHanded] = handed;
        this.#accept(handed, client);
      });
  }

  /** @internal an admitted connection closed. */
  released(socket: Socket): void {
    this.#open--;
    this.#closed?.((socket as AcceptedSocket)[kHanded] ?? socket);
    this.#admitWaiting();
  }

  /** @internal a waiting connection went away. */
  dequeue(socket: Socket): void {
    const i = this.#queue.indexOf(socket);
    if (i >= 0) this.#queue.splice(i, 1);
  }

  #admitWaiting(): void {
    while (this.#queue.length > 0 && (this.#limit === null || this.#open < this.#limit)) {
      const socket = this.#queue.shift() as Socket;
      socket.off('close', onQueuedClose);
      socket.off('error', ignoreError);
      this.#admit(socket);
    }
  }
}
