import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP upstream. By default an echo server that honours half-close (it finishes
 * echoing after the client ends its side); `onConnection` replaces the behaviour.
 */
export class TcpUpstream {
  readonly server: Server;
  connections = 0;
  readonly #sockets = new Set<Socket>();
  onConnection: ((socket: Socket) => void) | null = null;

  constructor() {
    this.server = createServer({ allowHalfOpen: true }, (socket) => {
      this.connections++;
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
      socket.on('error', () => {});
      if (this.onConnection !== null) return this.onConnection(socket);
      socket.pipe(socket);
    });
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get open(): number {
    return this.#sockets.size;
  }

  listen(port = 0): Promise<this> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve(this));
    });
  }

  close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

export function startTcpUpstream(port = 0): Promise<TcpUpstream> {
  return new TcpUpstream().listen(port);
}
