import type { Socket } from 'node:net';
import type { ProxyContext } from '../context.js';
import { idleSweep, Sweep } from '../idle-sweep.js';
import { type ClientAddress, IntakeCounter, type IntakeSettings } from '../intake.js';
import { FrontendListener, type WorkerSlot, workerShare } from '../listener.js';
import { TlsTerminator } from '../tls-terminator.js';
import { ClientConnection, clientConnectionOf } from './client-connection.js';
import type { HttpState } from './http-state.js';
import type { Tunnel } from './upgrade.js';

/**
 * The sweep's period: a quarter of the shortest timeout it enforces (so a timeout fires
 * within 125% of its value), between 25 ms and 1 s.
 */
function sweepEvery(state: HttpState): number {
  const t = state.frontend.http.timeouts;
  const shortest = Math.min(t.clientHeaderMs, t.clientIdleMs, t.clientStallMs, t.responseMs);
  return Math.max(25, Math.min(1000, Math.floor(shortest / 4)));
}

/**
 * One `protocol: http` frontend in a worker: a FrontendListener hands it connections,
 * each served by a ClientConnection on the http1 codec; the frontend's current HttpState
 * is swapped in on reload. One sweep per frontend enforces every connection's timeouts
 * (a timer per socket would cost memory on every idle keep-alive connection).
 */
export class HttpFrontend {
  readonly ctx: ProxyContext;
  state: HttpState;
  readonly tunnels = new Set<Tunnel>();
  readonly tunnelSweep = idleSweep(this.tunnels, () => this.state.frontend.http.timeouts.tunnelIdleMs);
  readonly #connections = new Set<ClientConnection>();
  readonly #sweep = new Sweep(
    this.#connections,
    () => sweepEvery(this.state),
    (conn, now) => conn.check(now),
  );
  readonly #listener: FrontendListener;
  #open = 0;
  #tls: TlsTerminator | null = null;

  constructor(ctx: ProxyContext, state: HttpState) {
    this.ctx = ctx;
    this.state = state;
    this.#listener = new FrontendListener(
      (socket, client) => this.#accept(socket, client),
      (socket) => this.#closed(socket),
      new IntakeCounter(ctx, () => this.name),
    );
    this.#applyIntake();
  }

  /** The PROXY header and TLS steps for connections accepted from now on; certificates change here on reload. */
  #applyIntake(): void {
    const f = this.state.frontend;
    this.#tls = TlsTerminator.next(f.tls, this.#tls);
    const intake: IntakeSettings = { proxyProtocol: f.proxyProtocol, proxyWaitMs: f.http.timeouts.clientHeaderMs, tls: this.#tls };
    this.#listener.setIntake(intake);
  }

  get name(): string {
    return this.state.frontend.name;
  }

  listen(worker: WorkerSlot): Promise<void> {
    this.#applyLimit(worker);
    return this.#listener.listen(this.state.frontend.listen, this.name);
  }

  /**
   * A new generation for this frontend (same name, protocol and address). Resolves once
   * the frontend listens again, if its `max_connections` share was raised from 0.
   */
  update(state: HttpState, worker: WorkerSlot): Promise<void> {
    // Open connections are counted under the frontend's default backend: when that
    // changes, they move with it (closes decrement the current one).
    const before = this.state.fallback.metrics;
    const after = state.fallback.metrics;
    if (before !== after) {
      before.active.dec(this.#open);
      after.active.inc(this.#open);
    }
    this.state = state;
    this.#applyIntake();
    this.#sweep.retime();
    this.tunnelSweep.retime();
    return this.#applyLimit(worker);
  }

  #applyLimit(worker: WorkerSlot): Promise<void> {
    return this.#listener.setLimit(workerShare(this.state.frontend.maxConnections, worker));
  }

  /** Client connections open now (including upgraded ones). */
  get openConnections(): number {
    return this.#open;
  }

  #accept(socket: Socket, client: ClientAddress): void {
    this.#open++;
    const m = this.state.fallback.metrics;
    m.connections.inc();
    m.active.inc();
    const conn = new ClientConnection(socket, this, client, this.#tls !== null);
    this.#connections.add(conn);
    this.#sweep.watch();
    socket.resume();
  }

  #closed(socket: Socket): void {
    this.#open--;
    const m = this.state.fallback.metrics;
    m.active.dec();
    const conn = clientConnectionOf(socket);
    if (conn === undefined) return;
    this.#connections.delete(conn);
    conn.closed();
    conn.countBytes(m);
  }

  /** A WebSocket connection the server accepted: watched for tunnel_idle until it closes. */
  tunnel(t: Tunnel): void {
    this.tunnels.add(t);
    t.onClose = (done) => this.tunnels.delete(done);
    this.tunnelSweep.watch();
  }

  /** Shutting down: stop accepting, close idle keep-alive connections (busy ones close after their response). */
  async stopAccepting(): Promise<void> {
    await this.#listener.close();
    this.closeIdle();
  }

  /** Closes idle connections now (used while draining, as requests complete). */
  closeIdle(): void {
    for (const conn of this.#connections) conn.closeIfIdle();
  }

  /** Everything, now. */
  destroy(): void {
    void this.#listener.close();
    for (const conn of this.#connections) conn.socket.destroy();
    for (const t of this.tunnels) t.destroy();
    this.#sweep.stop();
  }
}
