import { createServer, type Socket } from 'node:net';
import { LoopbackServer } from './loopback-server.js';

/**
 * A TCP upstream. By default an echo server that honours half-close (it finishes
 * echoing after the client ends its side); `onConnection` replaces the behaviour.
 */
export class TcpUpstream extends LoopbackServer {
  connections = 0;
  onConnection: ((socket: Socket) => void) | null = null;

  constructor() {
    super(createServer({ allowHalfOpen: true }));
    this.server.on('connection', (socket: Socket) => {
      this.connections++;
      socket.on('error', () => {});
      if (this.onConnection !== null) return this.onConnection(socket);
      socket.pipe(socket);
    });
  }
}

export function startTcpUpstream(port = 0): Promise<TcpUpstream> {
  return new TcpUpstream().listen(port);
}
