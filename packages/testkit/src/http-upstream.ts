import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

/**
 * A scripted HTTP upstream: answers `name` by default, records every request, counts
 * health probes on /health separately, and can be told to fail its health check, to
 * hold requests, or to answer with any handler.
 */
export class HttpUpstream {
  readonly name: string;
  readonly server: Server;
  readonly requests: SeenRequest[] = [];
  healthChecks = 0;
  healthStatus = 200;
  handler: Handler | null = null;
  readonly #sockets = new Set<Socket>();

  constructor(name: string) {
    this.name = name;
    this.server = createServer({ keepAliveTimeout: 30_000 }, (req, res) => this.#handle(req, res));
    this.server.on('connection', (s) => {
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

  /** Requests other than health probes. */
  get count(): number {
    return this.requests.length;
  }

  listen(port = 0): Promise<this> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve(this));
    });
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.url === '/health') {
        this.healthChecks++;
        res.writeHead(this.healthStatus, { 'content-type': 'text/plain', 'content-length': 3 });
        res.end('ok\n');
        return;
      }
      this.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders, body });
      if (this.handler !== null) return this.handler(req, res, body);
      const text = `${this.name}\n`;
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text), 'x-upstream': this.name });
      res.end(text);
    });
  }

  /** Stops listening and cuts every connection. */
  close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

export async function startHttpUpstream(name: string, port = 0): Promise<HttpUpstream> {
  return new HttpUpstream(name).listen(port);
}
