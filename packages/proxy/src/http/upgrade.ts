import type { Socket } from 'node:net';
import { ByteClock, bytesMoved, type IdleWatched } from '../idle-sweep.js';
import type { Exchange } from './exchange.js';

function ignore(): void {}

/**
 * A WebSocket connection after the server's 101: the client and server sockets spliced
 * byte for byte, with backpressure both ways, closed together. Only a handshake the server
 * accepted becomes a tunnel; any other answer is relayed as a response and the
 * connection closed (never a raw pipe, which would let a client talk to the server past
 * the proxy: "WebSocket smuggling").
 */
export class Tunnel implements IdleWatched {
  readonly #client: Socket;
  readonly #upstream: Socket;
  readonly #exchange: Exchange;
  readonly #idle = new ByteClock(performance.now());
  #idleClosed = false;
  #closed = false;
  onClose: ((t: Tunnel) => void) | null = null;

  constructor(client: Socket, upstream: Socket, exchange: Exchange) {
    this.#client = client;
    this.#upstream = upstream;
    this.#exchange = exchange;
    upstream.on('error', ignore);
    client.on('error', ignore);
    const close = () => this.#close();
    upstream.once('close', close);
    client.once('close', close);
    // Half-closes pass through: a WebSocket close handshake may end one direction first.
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    client.pipe(upstream, { end: false });
    upstream.pipe(client, { end: false });
    if (client.isPaused()) client.resume();
    if (upstream.isPaused()) upstream.resume();
    if (client.destroyed || upstream.destroyed) this.#close();
  }

  /** Closes the tunnel if no byte moved either way for `http.timeouts.tunnel_idle` (the frontend's IdleSweep calls it). */
  checkIdle(now: number, timeoutMs: number): void {
    if (this.#idle.stillFor(bytesMoved(this.#client), now) >= timeoutMs) {
      this.#idleClosed = true;
      this.#client.destroy();
    }
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#client.destroy();
    this.#upstream.destroy();
    this.#exchange.tunnelClosed(this.#idleClosed);
    this.onClose?.(this);
  }

  /** Ends the tunnel now (shutdown deadline). */
  destroy(): void {
    this.#client.destroy();
  }
}
