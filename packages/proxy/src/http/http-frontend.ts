import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { type ErrorCode, normalizeIp } from '@rustlb/core';
import { logHttpAccess } from '@rustlb/telemetry';
import type { ProxyContext } from '../context.js';
import { IdleSweep } from '../idle-sweep.js';
import { FrontendListener, type WorkerSlot, workerShare } from '../listener.js';
import { rawErrorResponse, statusOf } from './error-page.js';
import { connectionGone, droppingBody, Exchange, exchangeOf, unaccountedBytes } from './exchange.js';
import type { HttpState } from './http-state.js';
import { requestProblem } from './request-checks.js';
import { handleUpgrade, type Tunnel } from './upgrade.js';

/** Node's server with the two settings it reads per connection but does not type. */
type ProxyServer = Server & { frontend: HttpFrontend; maxHeaderSize: number; connectionsCheckingInterval: number };

function onRequest(this: ProxyServer, req: IncomingMessage, res: ServerResponse): void {
  this.frontend.request(req, res, false);
}

/** `Expect: 100-continue`: the exchange sends 100 once a server connection takes the request, not before. */
function onCheckContinue(this: ProxyServer, req: IncomingMessage, res: ServerResponse): void {
  this.frontend.request(req, res, true);
}

function onUpgrade(this: ProxyServer, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  const fe = this.frontend;
  handleUpgrade(fe.ctx, fe.state, req, socket, head, fe.tunnels, fe.tunnelSweep.watch);
}

function onConnect(_req: IncomingMessage, socket: Duplex): void {
  socket.on('error', () => {});
  socket.end(rawErrorResponse('RLB_ERR_NOT_IMPLEMENTED', null, 'CONNECT is not supported'));
}

/** Node's parser refused the bytes: answer 400/408/431 when nothing is being answered yet, and close. */
function onClientError(this: ProxyServer, err: NodeJS.ErrnoException, socket: Duplex): void {
  this.frontend.clientError(err, socket as Socket);
}

/**
 * A well-formed version the parser does not speak (`HTTP/1.2`, `HTTP/3.0`): 505, as nginx
 * answers (RFC 9110 §15.6.6). A malformed one (`HTTP/1.a`, `HTTP/01.1`) stays a 400.
 */
function isUnsupportedVersion(err: NodeJS.ErrnoException & { reason?: string }): boolean {
  return err.code === 'HPE_INVALID_VERSION' && err.reason === 'Invalid HTTP version';
}

const PARSER_ERRORS: Readonly<Record<string, ErrorCode>> = {
  HPE_HEADER_OVERFLOW: 'RLB_ERR_HEADERS_TOO_LARGE',
  ERR_HTTP_REQUEST_TIMEOUT: 'RLB_ERR_CLIENT_TIMEOUT',
};

/**
 * One `protocol: http` frontend in a worker: Node's HTTP server (strict parser, never
 * lenient) fed by a FrontendListener, with the frontend's current HttpState swapped in
 * on reload. The server itself never listens; the listener hands it connections.
 */
export class HttpFrontend {
  readonly ctx: ProxyContext;
  state: HttpState;
  readonly tunnels = new Set<Tunnel>();
  readonly tunnelSweep = new IdleSweep(this.tunnels, () => this.state.frontend.http.timeouts.tunnelIdleMs);
  readonly #server: ProxyServer;
  readonly #listener: FrontendListener;
  #open = 0;

  constructor(ctx: ProxyContext, state: HttpState) {
    this.ctx = ctx;
    this.state = state;
    const t = state.frontend.http.timeouts;
    this.#server = createServer({
      maxHeaderSize: state.frontend.http.maxHeaderSize,
      // requestProblem() refuses a missing Host itself, with rustlb's error answer and request id.
      requireHostHeader: false,
      insecureHTTPParser: false,
      joinDuplicateHeaders: false,
      headersTimeout: t.clientHeaderMs,
      // Bodies may take as long as they take (uploads); the head has its own timeout.
      requestTimeout: 0,
      keepAliveTimeout: t.clientIdleMs,
      connectionsCheckingInterval: checkingInterval(t.clientHeaderMs),
      noDelay: true,
    }) as ProxyServer;
    this.#server.frontend = this;
    this.#server.on('request', onRequest);
    this.#server.on('checkContinue', onCheckContinue);
    this.#server.on('upgrade', onUpgrade);
    this.#server.on('connect', onConnect);
    this.#server.on('clientError', onClientError);
    // The server does not listen itself, so start its timeout bookkeeping (headersTimeout) by hand.
    this.#server.emit('listening');
    this.#listener = new FrontendListener(
      (socket) => this.#accept(socket),
      (socket) => this.connectionClosed(socket),
    );
    this.#listener.claim(this.#server);
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
    const t = state.frontend.http.timeouts;
    const server = this.#server;
    server.maxHeaderSize = state.frontend.http.maxHeaderSize;
    server.headersTimeout = t.clientHeaderMs;
    server.keepAliveTimeout = t.clientIdleMs;
    const interval = checkingInterval(t.clientHeaderMs);
    if (server.connectionsCheckingInterval !== interval) {
      server.connectionsCheckingInterval = interval;
      server.emit('listening');
    }
    return this.#applyLimit(worker);
  }

  #applyLimit(worker: WorkerSlot): Promise<void> {
    return this.#listener.setLimit(workerShare(this.state.frontend.maxConnections, worker));
  }

  /** Client connections open now (including upgraded ones). */
  get openConnections(): number {
    return this.#open;
  }

  #accept(socket: Socket): void {
    this.#open++;
    const m = this.state.fallback.metrics;
    m.connections.inc();
    m.active.inc();
    this.#server.emit('connection', socket);
    socket.resume();
  }

  /** @internal */
  connectionClosed(socket: Socket): void {
    connectionGone(socket);
    this.#open--;
    const m = this.state.fallback.metrics;
    m.active.dec();
    const rest = unaccountedBytes(socket);
    m.bytes(rest.bytesIn, rest.bytesOut);
  }

  request(req: IncomingMessage, res: ServerResponse, expectsContinue: boolean): void {
    const started = performance.now();
    const state = this.state;
    // Node's parser accepts HTTP/0.9 and 2.0 request lines; neither may be relayed as HTTP/1.1.
    if (req.httpVersionMajor !== 1) {
      this.#reject(state, req, res, 'RLB_ERR_HTTP_VERSION', `HTTP/${req.httpVersion}`, started);
      return;
    }
    const problem = requestProblem(req);
    if (problem !== null) {
      this.#reject(state, req, res, 'RLB_ERR_BAD_REQUEST', problem, started);
      return;
    }
    if (req.url === '*') {
      this.#optionsStar(state, req, res, started);
      return;
    }
    new Exchange(this.ctx, state, state.route(req), req, res, started).start(expectsContinue);
  }

  /** A request refused before any server was chosen. */
  #reject(state: HttpState, req: IncomingMessage, res: ServerResponse, code: ErrorCode, detail: string, started: number): void {
    const exchange = new Exchange(this.ctx, state, state.fallback, req, res, started);
    exchange.fail(code, detail);
  }

  /** `OPTIONS *` asks about the server as a whole: the proxy answers it (undici cannot send asterisk-form). */
  #optionsStar(state: HttpState, req: IncomingMessage, res: ServerResponse, started: number): void {
    res.writeHead(200, { Allow: 'GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH', 'Content-Length': 0, ...(this.ctx.draining ? { Connection: 'close' } : {}) });
    res.end();
    state.fallback.metrics.request(req.method as string, 200, (performance.now() - started) / 1000);
  }

  clientError(err: NodeJS.ErrnoException, socket: Socket): void {
    const code = PARSER_ERRORS[err.code ?? ''] ?? (isUnsupportedVersion(err) ? 'RLB_ERR_HTTP_VERSION' : 'RLB_ERR_BAD_REQUEST');
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    if (droppingBody(socket)) {
      // The body of a request already answered ended early or broke: there is no request
      // to answer (a 400 now would answer nothing the client asked) and none recorded. The
      // answer may still be on its way out: the connection closes once it is written.
      this.ctx.logger.debug({ frontend: this.name, clientIp: normalizeIp(socket.remoteAddress), err: err.code }, 'rest of an answered body broke; closing');
      socket.destroySoon();
      return;
    }
    const res = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (err.code === 'HPE_CLOSED_CONNECTION' && res !== null && res !== undefined) {
      // Bytes after a request that closes the connection (Connection: close, HTTP/1.0): they
      // can never be a request (RFC 9112 §9.6). Read no more and answer that request; the
      // connection closes after it, as HAProxy and nginx do.
      socket.pause();
      return;
    }
    // A response in progress for this connection (a body that turned out malformed): answer through it.
    if (res !== null && res !== undefined) {
      const exchange = exchangeOf(res);
      if (exchange !== undefined && !res.headersSent) exchange.fail(code, err.code ?? null);
      else socket.destroy();
      return;
    }
    if (socket.bytesWritten > 0 && code === 'RLB_ERR_CLIENT_TIMEOUT') {
      // A keep-alive connection that started its next request and stalled: close it without
      // a 408, as nginx does. Clients read a close on a reused connection as the keep-alive
      // race and may retry; a 408 would be a final answer (docs/http-proxy.md).
      socket.destroy();
      return;
    }
    const requestId = this.ctx.ids.next();
    socket.end(rawErrorResponse(code, requestId, null), () => socket.destroy());
    const state = this.state;
    const status = statusOf(code);
    state.fallback.metrics.request('OTHER', status, 0);
    const { bytesIn, bytesOut } = unaccountedBytes(socket);
    state.fallback.metrics.bytes(bytesIn, bytesOut);
    if (this.ctx.accessLog) {
      logHttpAccess(this.ctx.logger, {
        requestId,
        frontend: state.frontend.name,
        backend: state.fallback.backend.name,
        server: '',
        clientIp: normalizeIp(socket.remoteAddress),
        method: '',
        path: '',
        status,
        durationMs: 0,
        bytesIn,
        bytesOut,
        error: code,
      });
    }
  }

  /** Shutting down: stop accepting, close idle keep-alive connections (busy ones close after their response). */
  async stopAccepting(): Promise<void> {
    await this.#listener.close();
    this.#server.closeIdleConnections();
  }

  /** Closes idle connections now (used while draining, as requests complete). */
  closeIdle(): void {
    this.#server.closeIdleConnections();
  }

  /** Everything, now. */
  destroy(): void {
    void this.#listener.close();
    this.#server.closeAllConnections();
    for (const t of this.tunnels) t.destroy();
    this.#server.close();
  }
}

function checkingInterval(clientHeaderMs: number): number {
  return Math.max(100, Math.min(1000, Math.floor(clientHeaderMs / 4)));
}
