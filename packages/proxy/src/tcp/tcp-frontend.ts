import { connect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Balancer } from '@rustlb/balancer';
import { type BackendTls, type ErrorCode, type FrontendConfig, normalizeIp } from '@rustlb/core';
import type { PassiveFailureReason } from '@rustlb/core/ipc';
import { logTcpAccess, type MetricsTarget, type WorkerMetrics } from '@rustlb/telemetry';
import type { ProxyContext } from '../context.js';
import { ByteClock, bytesMoved, type IdleWatched, idleSweep, type Sweep } from '../idle-sweep.js';
import { type ClientAddress, IntakeCounter } from '../intake.js';
import { FrontendListener, type WorkerSlot, workerShare } from '../listener.js';
import { encodeProxyHeader } from '../proxy-protocol.js';
import type { ServerSlot } from '../server-slot.js';
import type { BackendTable, ProxyTables } from '../tables.js';
import { TlsTerminator } from '../tls-terminator.js';

/** A `protocol: tcp` frontend compiled for one generation. */
export class TcpState {
  readonly frontend: FrontendConfig;
  readonly backend: BackendTable;
  readonly balancer: Balancer;
  readonly metrics: MetricsTarget;

  constructor(frontend: FrontendConfig, tables: ProxyTables, metrics: WorkerMetrics) {
    this.frontend = frontend;
    const table = tables.backends.get(frontend.backend);
    if (table === undefined) throw new Error(`no backend ${frontend.backend}`);
    this.backend = table;
    this.balancer = table.balancer(frontend.algorithm);
    this.metrics = metrics.target(frontend.name, frontend.backend);
  }
}

function ignore(): void {}

/**
 * One TCP session: bytes both ways unchanged, half-close honoured (a client that ends
 * its side still receives the rest of the reply), connect timeout with another server
 * tried on failure, idle timeout, and both sides closed when either fails.
 */
class TcpSession {
  readonly #ctx: ProxyContext;
  readonly #state: TcpState;
  readonly #client: Socket;
  readonly #sessions: Set<TcpSession>;
  /** The client: the PROXY header's source when the frontend reads one, else the peer. */
  readonly #clientIp: string;
  readonly #clientPort: number;
  readonly #started = performance.now();
  #upstream: Socket | null = null;
  /** The upstream connection being opened. */
  #connecting: Socket | null = null;
  /** The server this session is counted on (from its pick until the end). */
  #counted: ServerSlot | null = null;
  /** Set when the session is spliced (idleness counts from then). */
  #idle: ByteClock | null = null;
  readonly #onSpliced: () => void;
  #slot: ServerSlot | null = null;
  #avoid: Set<ServerSlot> | null = null;
  #error: ErrorCode | null = null;
  #done = false;

  constructor(ctx: ProxyContext, state: TcpState, client: Socket, address: ClientAddress, sessions: Set<TcpSession>, onSpliced: () => void) {
    this.#ctx = ctx;
    this.#state = state;
    this.#client = client;
    this.#sessions = sessions;
    this.#onSpliced = onSpliced;
    this.#clientIp = address.ip;
    this.#clientPort = address.port;
  }

  start(): void {
    const client = this.#client;
    client.on('error', ignore);
    client.once('close', () => this.#clientClosed());
    this.#state.metrics.connections.inc();
    this.#state.metrics.active.inc();
    this.#connect();
  }

  #connect(): void {
    const slot = this.#state.balancer.pick(this.#clientIp, this.#avoid) as ServerSlot | null;
    if (slot === null) {
      if (this.#error === null) this.#state.backend.warnNoServer(this.#ctx.logger);
      this.#error ??= 'RLB_ERR_NO_SERVER';
      // Nothing to connect to: close at once rather than leave the client waiting.
      this.#client.destroy();
      return;
    }
    this.#slot = slot;
    // Counted from the pick, not from the connect: a burst of sessions must not all pick
    // the same least-loaded server while its connects are still in progress.
    this.#count(slot, 1);
    const upstream = connect({ host: slot.host, port: slot.port, noDelay: true, allowHalfOpen: true });
    this.#connecting = upstream;
    const timer = setTimeout(
      () => upstream.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })),
      this.#state.frontend.tcp.connectTimeoutMs,
    );
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (this.#upstream === upstream) {
        this.#error ??= 'RLB_ERR_UPSTREAM_RESET';
        this.#client.destroy();
        return;
      }
      const timedOut = err.code === 'ETIMEDOUT';
      this.#elsewhere(slot, timedOut ? 'connect-timeout' : 'refused', timedOut ? 'RLB_ERR_UPSTREAM_CONNECT_TIMEOUT' : 'RLB_ERR_UPSTREAM_CONNECT');
    });
    upstream.once('connect', () => {
      clearTimeout(timer);
      this.#connecting = null;
      if (this.#client.destroyed) {
        upstream.destroy();
        return;
      }
      // send_proxy: the header goes first, before any byte of the client's (and before TLS).
      const version = slot.link.sendProxy;
      if (version !== null) upstream.write(this.#proxyHeader(version));
      const tls = slot.link.tls;
      if (tls === null) {
        this.#error = null;
        this.#splice(slot, upstream);
        return;
      }
      this.#secure(slot, upstream, tls);
    });
  }

  /**
   * TLS to the server (`backends[].tls`) over the connected socket, within the same
   * connect timeout. A handshake that fails (a certificate that does not verify) sent
   * nothing of the client's: the server is counted as failing (`tls`) and another tried.
   */
  #secure(slot: ServerSlot, upstream: Socket, tls: BackendTls): void {
    // From here the TLS socket reports the connection's errors (its connect handler must not retry twice).
    upstream.removeAllListeners('error');
    upstream.on('error', () => {});
    const servername = tls.servername ?? (isIP(slot.host) === 0 ? slot.host : undefined);
    const secure = tlsConnect({
      socket: upstream,
      ...(servername === undefined ? {} : { servername }),
      rejectUnauthorized: tls.verify,
      ...(tls.caPem === null ? {} : { ca: tls.caPem }),
      ...(tls.certPem === null || tls.keyPem === null ? {} : { cert: tls.certPem, key: tls.keyPem }),
      minVersion: 'TLSv1.2',
    });
    this.#connecting = secure;
    const timer = setTimeout(
      () => secure.destroy(Object.assign(new Error('TLS handshake timeout'), { code: 'ETIMEDOUT' })),
      this.#state.frontend.tcp.connectTimeoutMs,
    );
    secure.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (this.#upstream === secure) {
        this.#error ??= 'RLB_ERR_UPSTREAM_RESET';
        this.#client.destroy();
        return;
      }
      upstream.destroy();
      this.#ctx.logger.warn(
        { frontend: this.#state.frontend.name, server: slot.key, err: err.code ?? err.message, failure: 'tls' },
        'TLS handshake with the server failed',
      );
      this.#elsewhere(slot, 'tls', 'RLB_ERR_UPSTREAM_CONNECT');
    });
    secure.once('secureConnect', () => {
      clearTimeout(timer);
      this.#connecting = null;
      if (this.#client.destroyed) {
        secure.destroy();
        return;
      }
      this.#error = null;
      this.#splice(slot, secure);
    });
  }

  /** Not connected yet: nothing was sent, so another server can be tried (never this one again). */
  #elsewhere(slot: ServerSlot, reason: PassiveFailureReason, error: ErrorCode): void {
    this.#connecting = null;
    this.#count(slot, -1);
    this.#ctx.hooks.passiveFailure(slot, reason);
    this.#error = error;
    this.#avoid ??= new Set();
    this.#avoid.add(slot);
    if (!this.#client.destroyed) this.#connect();
  }

  /**
   * The PROXY header for this session: the client (the PROXY header's source when the
   * frontend reads one) as source, the address the client reached on this frontend as
   * destination (the listening address when the socket cannot say, as under TLS after a
   * PROXY header).
   */
  #proxyHeader(version: 'v1' | 'v2'): Buffer {
    const listen = this.#state.frontend.listen;
    const local = this.#client.localAddress;
    const dest =
      local !== undefined && local !== ''
        ? { address: normalizeIp(local), port: this.#client.localPort ?? listen.port }
        : { address: isIP(listen.host) !== 0 ? listen.host : this.#clientIp.includes(':') ? '::' : '0.0.0.0', port: listen.port };
    return encodeProxyHeader(version, { address: this.#clientIp, port: this.#clientPort }, dest);
  }

  #splice(slot: ServerSlot, upstream: Socket): void {
    this.#upstream = upstream;
    this.#sessions.add(this);
    this.#ctx.hooks.passiveSuccess(slot);
    const client = this.#client;
    upstream.once('close', () => {
      if (!client.destroyed) client.destroy();
    });
    // pipe() ends the other side when one side ends (half-close) and handles backpressure.
    client.pipe(upstream);
    upstream.pipe(client);
    this.#idle = new ByteClock(performance.now());
    this.#onSpliced();
  }

  /** Closes the session if no byte moved either way for `idle_timeout` (the frontend's IdleSweep calls it). */
  checkIdle(now: number, timeoutMs: number): void {
    if (this.#idle !== null && this.#idle.stillFor(bytesMoved(this.#client), now) >= timeoutMs) {
      this.#error = 'RLB_ERR_CLIENT_TIMEOUT';
      this.#client.destroy();
    }
  }

  #clientClosed(): void {
    const upstream = this.#upstream ?? this.#connecting;
    if (upstream !== null && !upstream.destroyed) upstream.destroy();
    this.#finish();
  }

  #count(slot: ServerSlot, delta: 1 | -1): void {
    slot.localActive += delta;
    this.#counted = delta === 1 ? slot : null;
    this.#ctx.hooks.activeChanged(slot);
  }

  /** Ends the session now (shutdown deadline). */
  destroy(): void {
    this.#client.destroy();
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    this.#sessions.delete(this);
    const slot = this.#slot;
    if (this.#counted !== null) this.#count(this.#counted, -1);
    const m = this.#state.metrics;
    m.active.dec();
    const bytesIn = this.#client.bytesRead;
    const bytesOut = this.#client.bytesWritten;
    m.bytes(bytesIn, bytesOut);
    if (this.#ctx.accessLog) {
      logTcpAccess(this.#ctx.logger, {
        frontend: this.#state.frontend.name,
        backend: this.#state.backend.name,
        server: slot?.address ?? '',
        clientIp: this.#clientIp,
        durationMs: Math.round(performance.now() - this.#started),
        bytesIn,
        bytesOut,
        ...(this.#error === null ? {} : { error: this.#error }),
      });
    }
  }
}

/** The peer of a socket, as the listener gives it when there is no PROXY header. */
function peer(socket: Socket): ClientAddress {
  return { ip: normalizeIp(socket.remoteAddress), port: socket.remotePort ?? 0 };
}

/** One `protocol: tcp` frontend in a worker. */
export class TcpFrontend {
  readonly ctx: ProxyContext;
  state: TcpState;
  readonly #listener: FrontendListener;
  readonly #sessions = new Set<TcpSession>();
  readonly #sweep: Sweep<IdleWatched>;
  #tls: TlsTerminator | null = null;

  constructor(ctx: ProxyContext, state: TcpState) {
    this.ctx = ctx;
    this.state = state;
    // idle_timeout: 0s means never: an infinite timeout no session reaches (swept once a minute).
    this.#sweep = idleSweep(this.#sessions, () => this.state.frontend.tcp.idleTimeoutMs || Number.POSITIVE_INFINITY);
    this.#listener = new FrontendListener((socket, client) => this.accept(socket, client), null, new IntakeCounter(ctx, () => this.name));
    this.#applyIntake();
  }

  /**
   * A connection through the intake: `client` is the PROXY header's source when the
   * frontend reads one, else the socket's peer (taken from the socket when not given).
   */
  accept(socket: Socket, client?: ClientAddress): void {
    new TcpSession(this.ctx, this.state, socket, client ?? peer(socket), this.#sessions, this.#sweep.watch).start();
  }

  /**
   * The PROXY header and TLS steps for connections accepted from now on. On a TCP frontend
   * the header must arrive within `tcp.connect_timeout` (there is no request to time).
   */
  #applyIntake(): void {
    const f = this.state.frontend;
    this.#tls = TlsTerminator.next(f.tls, this.#tls);
    this.#listener.setIntake({ proxyProtocol: f.proxyProtocol, proxyWaitMs: f.tcp.connectTimeoutMs, tls: this.#tls });
  }

  get name(): string {
    return this.state.frontend.name;
  }

  listen(worker: WorkerSlot): Promise<void> {
    this.#applyLimit(worker);
    return this.#listener.listen(this.state.frontend.listen, this.name);
  }

  /** Resolves once the frontend listens again, if its `max_connections` share was raised from 0. */
  update(state: TcpState, worker: WorkerSlot): Promise<void> {
    this.state = state;
    this.#applyIntake();
    this.#sweep.retime();
    return this.#applyLimit(worker);
  }

  #applyLimit(worker: WorkerSlot): Promise<void> {
    return this.#listener.setLimit(workerShare(this.state.frontend.maxConnections, worker));
  }

  get openConnections(): number {
    return this.#listener.open;
  }

  /** Sessions go on; only new connections stop. */
  stopAccepting(): Promise<void> {
    return this.#listener.close();
  }

  closeIdle(): void {}

  destroy(): void {
    void this.#listener.close();
    for (const s of this.#sessions) s.destroy();
  }
}
