import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { LoopbackServer } from './loopback-server.js';

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
export class HttpUpstream extends LoopbackServer<Server> {
  readonly name: string;
  readonly requests: SeenRequest[] = [];
  healthChecks = 0;
  healthStatus = 200;
  handler: Handler | null = null;

  constructor(name: string) {
    super(createServer({ keepAliveTimeout: 30_000 }));
    this.name = name;
    this.server.on('request', (req: IncomingMessage, res: ServerResponse) => this.#handle(req, res));
  }

  /** Requests other than health probes. */
  get count(): number {
    return this.requests.length;
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
}

export async function startHttpUpstream(name: string, port = 0): Promise<HttpUpstream> {
  return new HttpUpstream(name).listen(port);
}
