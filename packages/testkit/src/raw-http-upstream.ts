import { createServer, type Socket } from 'node:net';
import { LoopbackServer } from './loopback-server.js';

/** One request as a raw upstream read it. */
export interface RawRequest {
  /** Request line and header lines, as received (latin1, without the blank line). */
  readonly head: string;
  readonly method: string;
  readonly path: string;
  /** Lower-cased names, last value wins. */
  readonly headers: Record<string, string>;
  readonly body: Buffer;
  /** Index of the request on its connection (0 = first). */
  readonly index: number;
  /** Which connection of the upstream (0 = first accepted). */
  readonly connection: number;
}

/** Answers one request by writing whatever bytes it likes on the socket (or none). */
export type RawHandler = (req: RawRequest, socket: Socket) => void;

const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';

/**
 * An HTTP/1.1 upstream written on a bare TCP server, for answers Node's own server would
 * never send (bad framing, a body on 204, a reset in the middle). It counts every byte
 * it receives, so a test can prove that nothing of a refused request reached it. Reads
 * request heads and Content-Length or chunked bodies; answers `200 ok` unless `handler`
 * says otherwise; keeps connections open.
 */
export class RawHttpUpstream extends LoopbackServer {
  readonly requests: RawRequest[] = [];
  handler: RawHandler | null = null;
  bytesReceived = 0;
  connections = 0;

  constructor() {
    super(createServer({ allowHalfOpen: false, noDelay: true }));
    this.server.on('connection', (socket: Socket) => this.#onConnection(socket));
  }

  #onConnection(socket: Socket): void {
    const connection = this.connections++;
    socket.on('error', () => {});
    let buffer = Buffer.alloc(0);
    let index = 0;
    socket.on('data', (chunk: Buffer) => {
      this.bytesReceived += chunk.length;
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buffer.toString('latin1', 0, end);
        const lines = head.split('\r\n');
        const [method = '', path = ''] = (lines[0] ?? '').split(' ');
        const headers: Record<string, string> = {};
        for (const line of lines.slice(1)) {
          const colon = line.indexOf(':');
          if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
        }
        let bodyEnd = end + 4;
        let body = Buffer.alloc(0);
        if (headers['content-length'] !== undefined) {
          bodyEnd += Number(headers['content-length']);
          if (buffer.length < bodyEnd) return;
          body = Buffer.from(buffer.subarray(end + 4, bodyEnd));
        } else if (headers['transfer-encoding']?.toLowerCase() === 'chunked') {
          const last = buffer.indexOf('\r\n0\r\n\r\n', end + 2);
          if (last < 0) return;
          bodyEnd = last + 7;
          body = Buffer.from(buffer.subarray(end + 4, bodyEnd));
        }
        buffer = buffer.subarray(bodyEnd);
        const req: RawRequest = { head, method, path, headers, body, index: index++, connection };
        this.requests.push(req);
        if (this.handler !== null) this.handler(req, socket);
        else socket.write(OK);
      }
    });
  }

  /** Cuts every connection (a reset), keeps listening. */
  resetAll(): void {
    for (const s of this.sockets) s.resetAndDestroy();
  }
}

export function startRawHttpUpstream(port = 0): Promise<RawHttpUpstream> {
  return new RawHttpUpstream().listen(port);
}
