import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';

export interface Response {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly text: string;
}

export interface RequestOptions {
  readonly method?: string;
  readonly path?: string;
  readonly headers?: Record<string, string | number>;
  readonly body?: string | Buffer;
  /** A keep-alive agent to reuse connections; none = a new connection per request. */
  readonly agent?: Agent;
  readonly timeoutMs?: number;
}

/** One HTTP request to 127.0.0.1:port, the whole response read. */
export function get(port: number, options: RequestOptions = {}): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: '127.0.0.1',
      port,
      method: options.method ?? 'GET',
      path: options.path ?? '/',
      headers: options.headers,
      agent: options.agent ?? false,
    });
    const timer = setTimeout(() => req.destroy(new Error(`request timed out after ${options.timeoutMs ?? 10_000}ms`)), options.timeoutMs ?? 10_000);
    req.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      res.once('end', () => {
        clearTimeout(timer);
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString('utf8') });
      });
    });
    req.end(options.body);
  });
}

export function keepAliveAgent(): Agent {
  return new Agent({ keepAlive: true, maxSockets: 1 });
}

export interface RawResult {
  /** Everything the server sent, as latin1 text. */
  readonly data: string;
  /** The server closed the connection (FIN or reset) within the wait. */
  readonly closed: boolean;
}

/**
 * Writes raw bytes on a fresh connection and collects what comes back until the server
 * closes or `idleMs` pass without new bytes (bounded by `timeoutMs`).
 */
export function raw(port: number, bytes: string | Buffer, options: { idleMs?: number; timeoutMs?: number } = {}): Promise<RawResult> {
  const idleMs = options.idleMs ?? 500;
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let idle: NodeJS.Timeout | null = null;
    let settled = false;
    const done = (closed: boolean) => {
      if (settled) return;
      settled = true;
      if (idle !== null) clearTimeout(idle);
      clearTimeout(hard);
      socket.destroy();
      resolve({ data: Buffer.concat(chunks).toString('latin1'), closed });
    };
    const hard = setTimeout(() => done(false), options.timeoutMs ?? 10_000);
    const arm = () => {
      if (idle !== null) clearTimeout(idle);
      idle = setTimeout(() => done(false), idleMs);
    };
    socket.on('connect', () => {
      socket.write(bytes);
      arm();
    });
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      arm();
    });
    socket.on('end', () => done(true));
    socket.on('error', () => done(true));
    socket.on('close', () => done(true));
  });
}

/** Status codes of every response in raw HTTP/1.1 text, in order. */
export function statuses(data: string): number[] {
  return [...data.matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1]));
}
