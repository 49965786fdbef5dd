import type { AddressInfo, Server, Socket } from 'node:net';

/**
 * What every fake upstream of the testkit shares: a server on 127.0.0.1 that tracks its
 * sockets, so that `close()` cuts every connection instead of waiting for clients.
 */
export class LoopbackServer<S extends Server = Server> {
  readonly server: S;
  readonly #sockets = new Set<Socket>();

  constructor(server: S) {
    this.server = server;
    server.on('connection', (s: Socket) => {
      this.#sockets.add(s);
      s.once('close', () => this.#sockets.delete(s));
    });
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** The connections open now. */
  protected get sockets(): ReadonlySet<Socket> {
    return this.#sockets;
  }

  /** Connections open now. */
  get open(): number {
    return this.#sockets.size;
  }

  listen(port = 0): Promise<this> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve(this));
    });
  }

  /** Stops listening and cuts every connection. */
  close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
