import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { type ErrorCode, normalizeIp } from '@rustlb/core';
import { logHttpAccess } from '@rustlb/telemetry';
import type { ProxyContext } from '../context.js';
import type { ServerSlot } from '../server-slot.js';
import { rawErrorResponse, statusOf } from './error-page.js';
import { Exchange, unaccountedBytes } from './exchange.js';
import { incomingRequestId, requestHeaders } from './headers.js';
import type { HttpState } from './http-state.js';
import { RawResponse } from './raw-response.js';
import { hasBody, requestProblem } from './request-checks.js';
import type { RouteTarget } from './route.js';
import type { TemplateVars } from './template.js';

function ignore(): void {}

/**
 * A request carrying `Connection: upgrade`. A WebSocket handshake (GET, HTTP/1.1) is
 * tunnelled to a server byte for byte. Any other upgrade (h2c above all: an h2c
 * upgrade through a proxy bypasses its rules) is never honoured: the request is served
 * as plain HTTP/1.1 without its Upgrade headers, and the connection closed after it.
 */
export function handleUpgrade(ctx: ProxyContext, state: HttpState, req: IncomingMessage, socket: Duplex, head: Buffer, tunnels: Set<Tunnel>): void {
  socket.on('error', ignore);
  const started = performance.now();
  const problem = requestProblem(req);
  if (problem !== null || hasBody(req)) {
    socket.end(rawErrorResponse('RLB_ERR_BAD_REQUEST', null, problem ?? 'an upgrade request cannot carry a body'));
    return;
  }
  const target = state.route(req);
  const websocket = req.method === 'GET' && req.httpVersion === '1.1' && (req.headers.upgrade ?? '').trim().toLowerCase() === 'websocket';
  if (!websocket) {
    const res = new RawResponse(socket, req.method === 'HEAD');
    new Exchange(ctx, state, target, req, res as unknown as ServerResponse, started).start(false);
    return;
  }
  const tunnel = new Tunnel(ctx, state, target, req, socket as Socket, head, started, tunnels);
  tunnels.add(tunnel);
  tunnel.start();
}

/** A WebSocket (or other upgraded) connection spliced to one server. */
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
  #upstream: Socket | null = null;
  #slot: ServerSlot | null = null;
  #avoid: Set<ServerSlot> | null = null;
  #status = 0;
  #done = false;

  constructor(
    ctx: ProxyContext,
    state: HttpState,
    target: RouteTarget,
    req: IncomingMessage,
    client: Socket,
    head: Buffer,
    started: number,
    tunnels: Set<Tunnel>,
  ) {
    this.#ctx = ctx;
    this.#state = state;
    this.#target = target;
    this.#req = req;
    this.#client = client;
    this.#head = head;
    this.#started = started;
    this.#tunnels = tunnels;
    this.#vars = {
      clientIp: normalizeIp(client.remoteAddress),
      clientPort: String(client.remotePort ?? ''),
      backendName: target.backend.name,
      backendAddr: '',
    };
    this.#requestId = state.requestIdRule?.render(this.#vars) ?? incomingRequestId(req) ?? ctx.ids.next();
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
    this.#vars.backendAddr = slot.address;
    const upstream = connect({ host: slot.host, port: slot.port, noDelay: true });
    const timer = setTimeout(() => upstream.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })), this.#state.pool.connectMs);
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      // After the splice an error just ends the tunnel (both sides are closed together).
      if (this.#upstream !== null) {
        this.#client.destroy();
        return;
      }
      const timedOut = err.code === 'ETIMEDOUT';
      this.#ctx.hooks.passiveFailure(slot, timedOut ? 'connect-timeout' : 'refused');
      this.#avoid ??= new Set();
      this.#avoid.add(slot);
      if (!this.#client.destroyed) this.#connect(timedOut ? 'RLB_ERR_UPSTREAM_CONNECT_TIMEOUT' : 'RLB_ERR_UPSTREAM_CONNECT');
    });
    upstream.once('connect', () => {
      clearTimeout(timer);
      if (this.#client.destroyed) {
        upstream.destroy();
        return;
      }
      this.#splice(slot, upstream);
    });
  }

  #splice(slot: ServerSlot, upstream: Socket): void {
    this.#upstream = upstream;
    slot.localActive++;
    this.#ctx.hooks.activeChanged(slot);
    const req = this.#req;
    const headers = requestHeaders({
      req,
      state: this.#state,
      vars: this.#vars,
      requestId: this.#requestId,
      trustedPeer: this.#state.isTrusted(this.#vars.clientIp),
      upgrade: true,
    });
    let head = `${req.method} ${req.url} HTTP/1.1\r\n`;
    for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
    upstream.write(`${head}\r\n`);
    if (this.#head.length > 0) upstream.write(this.#head);
    upstream.once('data', (chunk: Buffer) => {
      // "HTTP/1.1 101 ..." → 101: for the log and the metrics only; the bytes pass unchanged.
      const status = Number(chunk.toString('latin1', 9, 12));
      this.#status = Number.isInteger(status) ? status : 0;
      if (this.#status === 101) this.#ctx.hooks.passiveSuccess(slot);
    });
    upstream.once('close', () => this.#client.destroy());
    this.#client.once('close', () => upstream.destroy());
    upstream.pipe(this.#client);
    this.#client.pipe(upstream);
  }

  #refuse(code: ErrorCode): void {
    this.#status = statusOf(code);
    this.#client.end(rawErrorResponse(code, this.#requestId, null));
    this.#finish(code);
  }

  #close(): void {
    if (this.#upstream !== null && this.#slot !== null) {
      this.#slot.localActive--;
      this.#ctx.hooks.activeChanged(this.#slot);
    }
    this.#finish(null);
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
    this.#target.metrics.request(this.#req.method as string, this.#status, seconds);
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
        status: this.#status,
        durationMs: Math.round(seconds * 1e6) / 1e3,
        bytesIn,
        bytesOut,
        ...(error === null ? {} : { error }),
      });
    }
  }
}
