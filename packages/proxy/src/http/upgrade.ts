import { type ClientRequest, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ErrorCode } from '@rustlb/core';
import { logHttpAccess } from '@rustlb/telemetry';
import type { ProxyContext } from '../context.js';
import { IdleClock } from '../idle-sweep.js';
import type { ServerSlot } from '../server-slot.js';
import { rawErrorResponse, statusOf } from './error-page.js';
import { Exchange, unaccountedBytes } from './exchange.js';
import { requestHeaders, requestIdOf, responseHeadersOf } from './headers.js';
import type { HttpState } from './http-state.js';
import { RawResponse } from './raw-response.js';
import { hasBody, requestProblem } from './request-checks.js';
import type { RouteTarget } from './route.js';
import { requestVars, type TemplateVars } from './template.js';
import { classifyUpstreamError, failureCode } from './upstream-errors.js';

function ignore(): void {}

/**
 * A request carrying `Connection: upgrade`. A WebSocket handshake (GET, HTTP/1.1) is
 * forwarded and, once the server answers 101, the two connections are spliced byte for
 * byte. Any other upgrade (h2c above all: an h2c upgrade through a proxy bypasses its
 * rules) is never honoured: the request is served as plain HTTP/1.1 without its Upgrade
 * headers, and the connection closed after it.
 */
export function handleUpgrade(
  ctx: ProxyContext,
  state: HttpState,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  tunnels: Set<Tunnel>,
  onSpliced: () => void,
): void {
  socket.on('error', ignore);
  // Node no longer reads this socket for us: hold whatever the client sends until the handshake is decided.
  socket.pause();
  const started = performance.now();
  const problem = requestProblem(req);
  if (problem !== null || hasBody(req)) {
    socket.end(rawErrorResponse('RLB_ERR_BAD_REQUEST', ctx.ids.next(), problem ?? 'an upgrade request cannot carry a body'));
    return;
  }
  const target = state.route(req);
  const websocket = req.method === 'GET' && req.httpVersion === '1.1' && (req.headers.upgrade ?? '').trim().toLowerCase() === 'websocket';
  if (!websocket) {
    const res = new RawResponse(socket, req.method === 'HEAD');
    socket.resume();
    new Exchange(ctx, state, target, req, res as unknown as ServerResponse, started).start(false);
    return;
  }
  const tunnel = new Tunnel(ctx, state, target, req, socket as Socket, head, started, tunnels, onSpliced);
  tunnels.add(tunnel);
  tunnel.start();
}

/**
 * A WebSocket handshake and, if the server accepts it, the tunnel after it. The
 * handshake goes through Node's HTTP client, so the server's answer is parsed: a 101 is
 * relayed and the sockets spliced; any other answer is relayed as a normal response
 * and the client connection closed after it — never left open as a raw pipe, which
 * would let a client talk to the server past the proxy ("WebSocket smuggling").
 */
export class Tunnel {
  readonly #ctx: ProxyContext;
  readonly #state: HttpState;
  readonly #target: RouteTarget;
  readonly #req: IncomingMessage;
  readonly #client: Socket;
  readonly #head: Buffer;
  readonly #started: number;
  readonly #tunnels: Set<Tunnel>;
  readonly #vars: TemplateVars;
  readonly #requestId: string;
  #handshake: ClientRequest | null = null;
  #upstream: Socket | null = null;
  /** A declined handshake's answer being relayed. */
  #response: IncomingMessage | null = null;
  #slot: ServerSlot | null = null;
  #active = false;
  #avoid: Set<ServerSlot> | null = null;
  #status = 0;
  #done = false;
  /** Set when the tunnel is spliced (idleness counts from then). */
  #idle: IdleClock | null = null;
  #idleClosed = false;
  readonly #onSpliced: () => void;

  constructor(
    ctx: ProxyContext,
    state: HttpState,
    target: RouteTarget,
    req: IncomingMessage,
    client: Socket,
    head: Buffer,
    started: number,
    tunnels: Set<Tunnel>,
    onSpliced: () => void,
  ) {
    this.#ctx = ctx;
    this.#state = state;
    this.#target = target;
    this.#req = req;
    this.#client = client;
    this.#head = head;
    this.#started = started;
    this.#tunnels = tunnels;
    this.#onSpliced = onSpliced;
    this.#vars = requestVars(client, target.backend.name);
    this.#requestId = requestIdOf(state, req, this.#vars, ctx.ids);
  }

  start(): void {
    this.#client.once('close', () => this.#close());
    this.#connect(null);
  }

  #connect(lastFailure: ErrorCode | null): void {
    const slot = this.#target.balancer.pick(this.#vars.clientIp, this.#avoid) as ServerSlot | null;
    if (slot === null) {
      if (lastFailure === null) this.#target.backend.warnNoServer(this.#ctx.logger);
      this.#refuse(lastFailure ?? 'RLB_ERR_NO_SERVER');
      return;
    }
    this.#slot = slot;
    slot.localActive++;
    this.#active = true;
    this.#ctx.hooks.activeChanged(slot);
    this.#vars.backendAddr = slot.address;
    const req = this.#req;
    const headers = requestHeaders({
      req,
      state: this.#state,
      vars: this.#vars,
      requestId: this.#requestId,
      trustedPeer: this.#state.isTrusted(this.#vars.clientIp),
      upgrade: true,
    });
    let path = req.url as string;
    if (path.charCodeAt(0) !== 47 /* / */) path = '/';
    const handshake = httpRequest({ host: slot.host, port: slot.port, method: 'GET', path, headers, setHost: false, agent: false });
    this.#handshake = handshake;
    // http.timeouts.connect to connect, then http.timeouts.response for the server's answer.
    let timer = setTimeout(
      () => handshake.destroy(Object.assign(new Error('connect timeout'), { code: 'UND_ERR_CONNECT_TIMEOUT' })),
      this.#state.pool.connectMs,
    );
    handshake.once('socket', (s: Socket) => {
      s.setNoDelay(true);
      s.once('connect', () => {
        clearTimeout(timer);
        timer = setTimeout(
          () => handshake.destroy(Object.assign(new Error('no handshake answer in time'), { code: 'UND_ERR_HEADERS_TIMEOUT' })),
          this.#state.responseTimeoutMs,
        );
      });
    });
    handshake.once('error', (err: Error) => {
      clearTimeout(timer);
      if (this.#handshake !== handshake || this.#done) return;
      this.#handshake = null;
      this.#release();
      if (this.#client.destroyed) return;
      const failure = classifyUpstreamError(err);
      if (failure === 'connect-refused' || failure === 'connect-timeout') {
        this.#ctx.hooks.passiveFailure(slot, failure === 'connect-refused' ? 'refused' : 'connect-timeout');
        this.#avoid ??= new Set();
        this.#avoid.add(slot);
        this.#connect(failureCode(failure));
        return;
      }
      if (failure === 'response-timeout') this.#ctx.hooks.passiveFailure(slot, 'response-timeout');
      else if (failure === 'reset') this.#ctx.hooks.passiveFailure(slot, 'reset');
      this.#ctx.logger.warn({ requestId: this.#requestId, server: slot.key, err: err.message, failure }, 'websocket handshake failed');
      this.#refuse(failureCode(failure));
    });
    handshake.once('upgrade', (res: IncomingMessage, upstream: Socket, upstreamHead: Buffer) => {
      clearTimeout(timer);
      this.#handshake = null;
      this.#status = res.statusCode ?? 101;
      this.#ctx.hooks.passiveSuccess(slot);
      this.#splice(res, upstream, upstreamHead);
    });
    handshake.once('response', (res: IncomingMessage) => {
      clearTimeout(timer);
      this.#handshake = null;
      this.#status = res.statusCode ?? 0;
      this.#ctx.hooks.passiveSuccess(slot);
      this.#relay(res);
    });
    handshake.end();
  }

  /** The server accepted: its 101 goes to the client, then bytes flow both ways unchanged. */
  #splice(res: IncomingMessage, upstream: Socket, upstreamHead: Buffer): void {
    const client = this.#client;
    upstream.on('error', ignore);
    if (client.destroyed) {
      upstream.destroy();
      return;
    }
    this.#upstream = upstream;
    const headers = responseHeadersOf(res.rawHeaders, this.#state, this.#vars, this.#requestId, true);
    let head = `HTTP/1.1 101 ${res.statusMessage ?? 'Switching Protocols'}\r\n`;
    for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
    client.write(`${head}\r\n`);
    if (upstreamHead.length > 0) client.write(upstreamHead);
    if (this.#head.length > 0) upstream.write(this.#head);
    upstream.once('close', () => client.destroy());
    client.once('close', () => upstream.destroy());
    upstream.pipe(client);
    client.pipe(upstream);
    this.#idle = new IdleClock();
    this.#onSpliced();
  }

  /** Closes the tunnel if no byte moved either way for `http.timeouts.tunnel_idle` (the frontend's IdleSweep calls it). */
  checkIdle(now: number, timeoutMs: number): void {
    if (this.#idle !== null && this.#idle.idleFor(this.#client, now) >= timeoutMs) {
      this.#idleClosed = true;
      this.#client.destroy();
    }
  }

  /** The server declined the upgrade: relay its answer and close; the connection never becomes a tunnel. */
  #relay(res: IncomingMessage): void {
    this.#response = res;
    const out = new RawResponse(this.#client, false);
    out.writeHead(res.statusCode ?? 502, res.statusMessage ?? '', responseHeadersOf(res.rawHeaders, this.#state, this.#vars, this.#requestId, false));
    res.on('data', (chunk: Buffer) => {
      if (!out.write(chunk)) {
        res.pause();
        out.once('drain', () => res.resume());
      }
    });
    res.once('end', () => {
      this.#release();
      out.end();
    });
    res.once('error', () => {
      this.#release();
      out.destroy();
    });
  }

  #release(): void {
    if (!this.#active || this.#slot === null) return;
    this.#active = false;
    this.#slot.localActive--;
    this.#ctx.hooks.activeChanged(this.#slot);
  }

  #refuse(code: ErrorCode): void {
    this.#status = statusOf(code);
    if (!this.#client.destroyed) this.#client.end(rawErrorResponse(code, this.#requestId, null));
    this.#finish(code);
  }

  #close(): void {
    this.#handshake?.destroy();
    this.#handshake = null;
    this.#upstream?.destroy();
    this.#response?.destroy();
    this.#release();
    this.#finish(this.#idleClosed ? 'RLB_ERR_CLIENT_TIMEOUT' : this.#status === 0 ? 'RLB_ERR_CLIENT_ABORTED' : null);
  }

  /** Ends the tunnel now (shutdown deadline). */
  destroy(): void {
    this.#client.destroy();
  }

  #finish(error: ErrorCode | null): void {
    if (this.#done) return;
    this.#done = true;
    this.#tunnels.delete(this);
    const seconds = (performance.now() - this.#started) / 1000;
    const status = this.#status === 0 ? 499 : this.#status;
    this.#target.metrics.request(this.#req.method as string, status, seconds);
    const { bytesIn, bytesOut } = unaccountedBytes(this.#client);
    this.#target.metrics.bytes(bytesIn, bytesOut);
    if (this.#ctx.accessLog) {
      logHttpAccess(this.#ctx.logger, {
        requestId: this.#requestId,
        frontend: this.#state.frontend.name,
        backend: this.#target.backend.name,
        server: this.#slot?.address ?? '',
        clientIp: this.#vars.clientIp,
        method: this.#req.method as string,
        path: this.#req.url ?? '',
        status,
        durationMs: Math.round(seconds * 1e6) / 1e3,
        bytesIn,
        bytesOut,
        ...(error === null ? {} : { error }),
      });
    }
  }
}
