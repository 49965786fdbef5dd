import { connect, isIP, type Socket } from 'node:net';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import type { BackendTls, ProxyProtocolVersion } from '@rustlb/core';
import { UpstreamConnection } from './upstream-connection.js';
import type { UpstreamFailure } from './upstream-errors.js';

/** The upstream settings a pool is built with (they come from the frontend). */
export interface PoolSettings {
  readonly connectMs: number;
  readonly upstreamIdleMs: number;
  /** The pair as one key, made once at config time (a slot keeps a pool per distinct pair). */
  readonly id: string;
}

/** How connections to a server are made: TLS or not, a PROXY header first or not (from the backend's config). */
export interface UpstreamLink {
  readonly tls: BackendTls | null;
  readonly sendProxy: ProxyProtocolVersion | null;
}

export const PLAIN_LINK: UpstreamLink = { tls: null, sendProxy: null };

/** Who asked for a connection: told once, either way. */
export interface ConnectWaiter {
  onUpstreamReady(up: UpstreamConnection): void;
  onUpstreamFailed(failure: UpstreamFailure, detail: string): void;
}

const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED']);

const kConnecting = Symbol('rustlb.connecting');

function ignoreError(): void {}
type ConnectingSocket = Socket & { [kConnecting]?: Connecting };

/** One connection attempt: its timer and its waiter. */
class Connecting {
  socket: ConnectingSocket;
  readonly pool: UpstreamPool;
  readonly waiter: ConnectWaiter;
  readonly timer: NodeJS.Timeout;
  /** A PROXY header to send before anything else (TLS included), or null. */
  readonly proxyHeader: Buffer | null;
  done = false;

  constructor(socket: ConnectingSocket, pool: UpstreamPool, waiter: ConnectWaiter, timeoutMs: number, proxyHeader: Buffer | null) {
    this.socket = socket;
    this.pool = pool;
    this.waiter = waiter;
    this.proxyHeader = proxyHeader;
    this.timer = setTimeout(connectTimedOut, timeoutMs, this);
  }
}

function connectTimedOut(c: Connecting): void {
  if (c.done) return;
  c.done = true;
  c.socket.destroy();
  c.waiter.onUpstreamFailed('connect-timeout', 'connect timed out');
}

function onConnected(this: ConnectingSocket): void {
  const c = this[kConnecting];
  if (c === undefined || c.done) return;
  if (c.proxyHeader !== null) this.write(c.proxyHeader);
  const tls = c.pool.link.tls;
  if (tls !== null && !(this as Socket as TLSSocket).encrypted) {
    // TCP is up (and the PROXY header, which precedes TLS, written): now the handshake, within the same connect timeout.
    this.off('error', onConnectError);
    this.on('error', ignoreError);
    const secure = c.pool.secure(this) as ConnectingSocket;
    secure[kConnecting] = c;
    c.socket = secure;
    secure.once('secureConnect', onSecured);
    secure.on('error', onConnectError);
    return;
  }
  c.done = true;
  clearTimeout(c.timer);
  this[kConnecting] = undefined;
  this.off('error', onConnectError);
  c.waiter.onUpstreamReady(new UpstreamConnection(this, c.pool));
}

function onSecured(this: ConnectingSocket): void {
  const c = this[kConnecting];
  if (c === undefined || c.done) return;
  c.done = true;
  clearTimeout(c.timer);
  this[kConnecting] = undefined;
  this.off('error', onConnectError);
  c.waiter.onUpstreamReady(new UpstreamConnection(this, c.pool));
}

function onConnectError(this: ConnectingSocket, err: NodeJS.ErrnoException): void {
  const c = this[kConnecting];
  if (c === undefined || c.done) return;
  c.done = true;
  clearTimeout(c.timer);
  c.socket.destroy();
  this.destroy();
  const tls = this !== c.socket || (this as Socket as TLSSocket).encrypted === true;
  c.waiter.onUpstreamFailed(tls ? 'tls' : CONNECT_ERRORS.has(err.code ?? '') ? 'connect-refused' : 'reset', err.code ?? err.message);
}

/**
 * Keep-alive connections to one server, for one set of settings. The pool answers only
 * "which connection next": the most recently used idle one (LIFO, so surplus connections
 * age out under upstream_idle), or a new one. It never grows by itself: a connection
 * exists because a request needed it, and idles out after `upstream_idle`.
 */
export class UpstreamPool {
  readonly host: string;
  readonly port: number;
  readonly settings: PoolSettings;
  readonly link: UpstreamLink;
  readonly #idle: UpstreamConnection[] = [];
  /** The last TLS session the server gave, offered again on the next connection (resumption). */
  #session: Buffer | undefined = undefined;
  #sweep: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(host: string, port: number, settings: PoolSettings, link: UpstreamLink = PLAIN_LINK) {
    this.host = host;
    this.port = port;
    this.settings = settings;
    this.link = link;
  }

  /** Connections carry one client's PROXY header: never shared (as HAProxy marks them private). */
  get private(): boolean {
    return this.link.sendProxy !== null;
  }

  /** @internal TLS over a connected socket, with the backend's verification settings and the last session. */
  secure(socket: Socket): TLSSocket {
    const tls = this.link.tls as BackendTls;
    const servername = tls.servername ?? (isIP(this.host) === 0 ? this.host : undefined);
    const secure = tlsConnect({
      socket,
      ...(servername === undefined ? {} : { servername }),
      rejectUnauthorized: tls.verify,
      ...(tls.caPem === null ? {} : { ca: tls.caPem }),
      ...(tls.certPem === null || tls.keyPem === null ? {} : { cert: tls.certPem, key: tls.keyPem }),
      minVersion: 'TLSv1.2',
      ALPNProtocols: ['http/1.1'],
      ...(this.#session === undefined ? {} : { session: this.#session }),
    });
    secure.on('session', (session: Buffer) => {
      this.#session = session;
    });
    return secure;
  }

  /** An idle pooled connection that is still open, or null. */
  take(): UpstreamConnection | null {
    const idle = this.#idle;
    while (idle.length > 0) {
      const up = idle.pop() as UpstreamConnection;
      if (up.alive && !up.socket.readableEnded) return up;
      up.destroy();
    }
    return null;
  }

  /** Opens a new connection (with a PROXY header first, for a backend that sends one); the waiter hears once. */
  open(waiter: ConnectWaiter, proxyHeader: Buffer | null = null): void {
    const socket = connect({ host: this.host, port: this.port, noDelay: true, keepAlive: true, keepAliveInitialDelay: 60_000 }) as ConnectingSocket;
    socket[kConnecting] = new Connecting(socket, this, waiter, this.settings.connectMs, proxyHeader);
    socket.once('connect', onConnected);
    socket.on('error', onConnectError);
  }

  /** A connection whose response is complete and that may serve another request. */
  release(up: UpstreamConnection): void {
    if (this.#closed || !up.alive || this.private) {
      up.destroy();
      return;
    }
    up.idleSince = performance.now();
    this.#idle.push(up);
    this.#watch();
  }

  /** Closes idle connections past upstream_idle, a few times per that period while any are idle. */
  #watch(): void {
    if (this.#sweep !== null) return;
    const every = Math.max(50, Math.min(1000, this.settings.upstreamIdleMs / 4));
    this.#sweep = setInterval(() => {
      const now = performance.now();
      const limit = this.settings.upstreamIdleMs;
      const idle = this.#idle;
      // Oldest first: the list is in release order.
      let drop = 0;
      while (drop < idle.length && (now - (idle[drop] as UpstreamConnection).idleSince >= limit || !(idle[drop] as UpstreamConnection).alive)) drop++;
      if (drop > 0) for (const up of idle.splice(0, drop)) up.destroy();
      if (idle.length === 0 && this.#sweep !== null) {
        clearInterval(this.#sweep);
        this.#sweep = null;
      }
    }, every);
    this.#sweep.unref();
  }

  /** Idle connections close now; busy ones close when their response is done. */
  close(): void {
    this.#closed = true;
    for (const up of this.#idle.splice(0)) up.destroy();
    if (this.#sweep !== null) clearInterval(this.#sweep);
    this.#sweep = null;
  }
}
