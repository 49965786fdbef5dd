import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ErrorCode, errorMessage } from '@rustlb/core';
import { logHttpAccess } from '@rustlb/telemetry';
import type { Dispatcher } from 'undici';
import type { ProxyContext } from '../context.js';
import type { ServerSlot } from '../server-slot.js';
import { Client, upstreamConnector } from '../undici.js';
import { errorBody, statusOf } from './error-page.js';
import { requestHeaders, requestIdOf, responseHeaders } from './headers.js';
import type { HttpState } from './http-state.js';
import { hasBody, IDEMPOTENT } from './request-checks.js';
import { type RouteTarget, requestPath } from './route.js';
import { requestVars, type TemplateVars } from './template.js';
import { classifyUpstreamError, failureCode, type UpstreamFailure } from './upstream-errors.js';

const kExchange = Symbol('rustlb.exchange');
const kConnection = Symbol('rustlb.connection');

type TrackedResponse = ServerResponse & { [kExchange]?: Exchange };
/**
 * What rustlb keeps per client connection: how much of its byte counters earlier requests
 * have taken, and whose turn it is. One object and one property per connection (each
 * extra property on a socket costs memory across thousands of idle keep-alive connections).
 */
class ConnectionState {
  read = 0;
  written = 0;
  /** The exchange of this connection being proxied now. */
  active: Exchange | null = null;
  /** Pipelined requests waiting for their turn, oldest first. */
  waiting: Exchange[] | null = null;
  /** The answered request whose rest of body is being read and dropped (see discardRest). */
  dropping: IncomingMessage | null = null;
}

type TrackedSocket = IncomingMessage['socket'] & { [kConnection]?: ConnectionState };

function connectionOf(socket: TrackedSocket): ConnectionState {
  let c = socket[kConnection];
  if (c === undefined) {
    c = new ConnectionState();
    socket[kConnection] = c;
  }
  return c;
}

/** The response went away before it finished: the client left, so stop the upstream side. */
function onResponseClose(this: TrackedResponse): void {
  const exchange = this[kExchange];
  if (exchange !== undefined && !this.writableFinished) exchange.clientGone();
}

/**
 * The client connection saw no byte either way for `client_stall` (Node's socket timeout,
 * which any byte read or written restarts). Returning leaves the connection alone: the
 * response listens for 'timeout', so Node does not destroy it.
 */
function onClientStall(this: TrackedResponse): void {
  const exchange = this[kExchange];
  if (exchange !== undefined) exchange.clientStalled();
  // Answered in full, but the client does not take the last bytes.
  else if (!this.writableFinished) this.destroy();
}

/**
 * The answer is complete but the request body is not (the upstream answered early, or
 * failed): read the rest and drop it, as Node does with a body nobody read, so that the
 * connection carries its next request, or notices that its client left. Otherwise the
 * socket stays paused where the body stopped being read (undici detaches a body it
 * stops sending) until client_idle. `_dump` is how Node's server drops a body: its parser
 * then discards the body's bytes, even of a request undici destroyed; resuming the socket
 * lets it read them.
 */
function discardRest(req: IncomingMessage, socket: TrackedSocket): void {
  (req as IncomingMessage & { _dump?: () => void })._dump?.();
  socket.resume();
}

/** Status recorded when the client leaves before any response (nginx's convention). */
const CLIENT_CLOSED = 499;

/** The exchange the response belongs to, if it is being proxied now. */
export function exchangeOf(res: ServerResponse): Exchange | undefined {
  return (res as TrackedResponse)[kExchange];
}

/**
 * One proxied request: picks a server, forwards the request through the server's
 * connection pool, streams the answer back with backpressure, retries what is safe to
 * retry, and records the outcome once. It is undici's dispatch handler for each
 * attempt (the callback interface undici uses internally, so no adapter sits between).
 */
export class Exchange implements Dispatcher.DispatchHandler {
  readonly #ctx: ProxyContext;
  readonly #state: HttpState;
  readonly #target: RouteTarget;
  readonly #req: IncomingMessage;
  readonly #res: TrackedResponse;
  /** The client connection (kept here: Node clears `req.socket` once the request is destroyed). */
  readonly #socket: TrackedSocket;
  readonly #started: number;
  readonly #vars: TemplateVars;
  readonly #requestId: string;
  readonly #withBody: boolean;
  #slot: ServerSlot | null = null;
  #avoid: Set<ServerSlot> | null = null;
  #abort: ((err?: Error) => void) | null = null;
  #resume: (() => void) | null = null;
  #oneShot: Client | null = null;
  /** The current attempt is on a connection of its own (a retry after a reset), not a pooled one. */
  #fresh = false;
  /** The client waits for `100 Continue` before it sends the body. */
  #continue = false;
  #status = 0;
  #gone = false;
  #done = false;
  #stallWatched = false;

  constructor(ctx: ProxyContext, state: HttpState, target: RouteTarget, req: IncomingMessage, res: ServerResponse, started: number) {
    this.#ctx = ctx;
    this.#state = state;
    this.#target = target;
    this.#req = req;
    this.#res = res as TrackedResponse;
    this.#started = started;
    const socket = req.socket as TrackedSocket;
    this.#socket = socket;
    this.#vars = requestVars(socket, target.backend.name);
    this.#requestId = requestIdOf(state, req, this.#vars, ctx.ids);
    this.#withBody = hasBody(req);
  }

  get requestId(): string {
    return this.#requestId;
  }

  start(expectsContinue: boolean): void {
    this.#continue = expectsContinue && this.#withBody;
    this.#res[kExchange] = this;
    this.#res.on('close', onResponseClose);
    // On every response, not only armed ones: an armed socket timeout outlives its exchange
    // when the next request was pipelined behind it, and Node destroys the socket on a
    // timeout nobody listens to.
    this.#res.on('timeout', onClientStall);
    const connection = connectionOf(this.#socket);
    connection.dropping = null;
    if (connection.active !== null) {
      // Pipelined: one request of a connection at a time upstream, as HAProxy and nginx do
      // (Node's server hands over every request it has parsed at once, so one connection
      // could otherwise have thousands in flight). It waits for its turn, and the
      // connection reads no further requests meanwhile.
      if (connection.waiting === null) connection.waiting = [this];
      else connection.waiting.push(this);
      this.#socket.pause();
      return;
    }
    this.#begin(connection);
  }

  #begin(connection: ConnectionState): void {
    connection.active = this;
    if (this.#withBody && !this.#req.complete) this.#watchStall();
    this.#next();
  }

  /** Arms the client stall timeout: from now on, `client_stall` without a byte either way is looked at. */
  #watchStall(): void {
    if (this.#stallWatched) return;
    this.#stallWatched = true;
    this.#socket.setTimeout(this.#state.frontend.http.timeouts.clientStallMs);
  }

  /** No byte either way for `client_stall`: cut the client off if it is the one holding things up. */
  clientStalled(): void {
    const req = this.#req;
    const res = this.#res;
    // Owing body bytes with none buffered (when the upstream is slow to take the body, rustlb
    // stops reading and the buffer fills), unless it waits for the 100 it asked for; or not
    // reading what is written to it. Waiting for the upstream's answer is not a stall.
    const uploadStalled = !req.complete && req.readableLength === 0 && !this.#continue;
    if (!uploadStalled && !res.writableNeedDrain) return;
    this.#gone = true;
    this.#ctx.logger.info({ requestId: this.#requestId, clientIp: this.#vars.clientIp, uploadStalled }, 'client stalled');
    // Recorded before the abort below, which reaches onError (that would record a client abort).
    if (res.headersSent) {
      // Destroyed before the turn passes, so requests pipelined behind this one are not sent.
      res.destroy();
      this.#finish(this.#status, 'RLB_ERR_CLIENT_STALLED');
    } else {
      this.#answer('RLB_ERR_CLIENT_STALLED', null);
    }
    this.#abort?.(new Error('client stalled'));
  }

  /** Picks a server not yet tried and sends the request there, or answers 503/the last failure. */
  #next(failure: UpstreamFailure | null = null): void {
    const slot = this.#target.balancer.pick(this.#vars.clientIp, this.#avoid) as ServerSlot | null;
    if (slot === null) {
      if (failure === null) {
        this.#target.backend.warnNoServer(this.#ctx.logger);
        this.#answer('RLB_ERR_NO_SERVER', null);
      } else {
        this.#answer(failureCode(failure), null);
      }
      return;
    }
    this.#send(slot, false);
  }

  /** Tries a server other than this one (and those tried before). */
  #elsewhere(slot: ServerSlot, failure: UpstreamFailure): void {
    this.#avoid ??= new Set();
    this.#avoid.add(slot);
    this.#next(failure);
  }

  #send(slot: ServerSlot, fresh: boolean): void {
    this.#slot = slot;
    this.#fresh = fresh;
    slot.localActive++;
    this.#ctx.hooks.activeChanged(slot);
    this.#vars.backendAddr = slot.address;
    const req = this.#req;
    let dispatcher: Dispatcher;
    if (fresh) {
      // A new connection of its own, so a retry cannot land on another stale pooled one.
      this.#oneShot = new Client(slot.origin, { pipelining: 1, connect: upstreamConnector(this.#state.pool.connectMs), keepAliveTimeout: 1 });
      dispatcher = this.#oneShot;
    } else {
      dispatcher = slot.pool(this.#state.pool);
    }
    dispatcher.dispatch(
      {
        path: requestPath(req),
        method: req.method as string,
        headers: requestHeaders({ req, state: this.#state, vars: this.#vars, requestId: this.#requestId, trustedPeer: this.#trustedPeer(), upgrade: false }),
        body: this.#withBody ? req : null,
        headersTimeout: this.#state.responseTimeoutMs,
        bodyTimeout: this.#state.responseTimeoutMs,
      },
      this,
    );
  }

  #trustedPeer(): boolean {
    return this.#state.trusted !== null && this.#state.isTrusted(this.#vars.clientIp);
  }

  #release(): void {
    const slot = this.#slot;
    if (slot === null) return;
    slot.localActive--;
    this.#ctx.hooks.activeChanged(slot);
    if (this.#oneShot !== null) {
      this.#oneShot.close().catch(() => {});
      this.#oneShot = null;
    }
  }

  // ---- undici's dispatch handler -------------------------------------------------

  onConnect(abort: (err?: Error) => void): void {
    this.#abort = abort;
    if (this.#gone) {
      abort(new Error('client closed the connection'));
      return;
    }
    // A server connection is about to take the request: now the client may send its body
    // (unless it already has: RFC 9110 §10.1.1 lets the 100 be omitted then).
    if (this.#continue) {
      this.#continue = false;
      const req = this.#req;
      if (!req.complete && req.readableLength === 0) this.#res.writeContinue();
    }
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    // 1xx interim answers (102, 103) are not relayed; the final answer follows.
    if (statusCode < 200) return true;
    this.#status = statusCode;
    this.#resume = resume;
    const slot = this.#slot as ServerSlot;
    this.#ctx.hooks.passiveSuccess(slot);
    const headers = responseHeaders(rawHeaders, this.#state, this.#vars, this.#requestId, this.#ctx.draining || this.#state.closing);
    try {
      this.#res.writeHead(statusCode, statusText, headers);
    } catch (err) {
      // Node refused a header the upstream sent (invalid characters): treat as a bad response.
      this.#ctx.logger.warn({ requestId: this.#requestId, server: slot.key, err: errorMessage(err) }, 'invalid upstream response header');
      this.#status = 0;
      this.#abort?.(new Error('invalid upstream response header'));
      return false;
    }
    if (statusCode === 204 || statusCode === 304) {
      // No content by definition (RFC 9112 §6.3): the client's answer is complete now. undici
      // would fail a 304 whose Content-Length gives the representation's size (which RFC 9110
      // §8.6 allows) and drop that connection; the client never sees it.
      this.#res.end();
      this.#finish(statusCode, null);
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.#res.write(chunk)) return true;
    this.#res.once('drain', this.#resume as () => void);
    this.#watchStall();
    return false;
  }

  onComplete(): void {
    this.#release();
    if (this.#done) return;
    this.#res.end();
    this.#finish(this.#status, null);
  }

  onError(err: Error): void {
    this.#release();
    // Already answered (a bodiless status, or rustlb's own error): nothing left to tell the client.
    if (this.#done) return;
    const slot = this.#slot as ServerSlot;
    if (this.#gone || this.#socket.destroyed) {
      this.#finish(this.#status === 0 ? CLIENT_CLOSED : this.#status, 'RLB_ERR_CLIENT_ABORTED');
      return;
    }
    const failure = classifyUpstreamError(err);
    if (this.#res.headersSent) {
      // A response byte reached the client: nothing may be retried. Closing the client
      // connection tells it the response is incomplete (never a fake complete one).
      this.#ctx.logger.warn({ requestId: this.#requestId, server: slot.key, err: errorMessage(err) }, 'upstream failed mid-response');
      if (failure === 'response-timeout') this.#ctx.hooks.passiveFailure(slot, 'response-timeout');
      this.#res.destroy();
      this.#finish(this.#status, failureCode(failure));
      return;
    }
    // The body has not been read yet when the connection failed, so it can still be sent elsewhere.
    const bodyUntouched = !this.#withBody || !this.#req.readableDidRead;
    switch (failure) {
      case 'connect-refused':
      case 'connect-timeout':
        this.#ctx.hooks.passiveFailure(slot, failure === 'connect-refused' ? 'refused' : 'connect-timeout');
        if (bodyUntouched) {
          this.#elsewhere(slot, failure);
          return;
        }
        break;
      case 'reset': {
        const retryable = !this.#withBody && IDEMPOTENT.has(this.#req.method as string);
        // Often a pooled connection the server closed while idle: one more try on a new connection.
        if (retryable && !this.#fresh) {
          this.#send(slot, true);
          return;
        }
        this.#ctx.hooks.passiveFailure(slot, 'reset');
        // A new connection reset too: the server is going away (a connection it had accepted
        // but not yet served when it stopped). Another server, as nginx's proxy_next_upstream.
        if (retryable) {
          this.#elsewhere(slot, failure);
          return;
        }
        break;
      }
      case 'response-timeout':
        this.#ctx.hooks.passiveFailure(slot, 'response-timeout');
        break;
      default:
        break;
    }
    this.#ctx.logger.warn({ requestId: this.#requestId, server: slot.key, err: errorMessage(err), failure }, 'upstream request failed');
    this.#answer(failureCode(failure), null);
  }

  // ---------------------------------------------------------------------------------

  /** The client left: abort the upstream request (its handler then finishes the record). */
  clientGone(): void {
    if (this.#gone || this.#done) return;
    this.#gone = true;
    if (this.#abort !== null) this.#abort(new Error('client closed the connection'));
  }

  /** Answers with an error of rustlb's own, unless a response has begun. */
  fail(code: ErrorCode, detail: string | null): void {
    // Not dispatched yet: undici's onConnect aborts it before a byte goes out.
    this.#gone = true;
    this.#abort?.(new Error(detail ?? code));
    this.#answer(code, detail);
  }

  #answer(code: ErrorCode, detail: string | null): void {
    const res = this.#res;
    const status = statusOf(code);
    if (!res.headersSent && !res.destroyed) {
      const body = errorBody(code, this.#requestId, detail);
      // After a malformed request the connection's framing cannot be trusted: close it.
      const close = status === 400 || status === 408 || status === 431 || status === 505 || this.#ctx.draining || this.#state.closing;
      res.writeHead(status, {
        'Content-Type': 'text/plain; charset=utf-8',
        'Content-Length': Buffer.byteLength(body),
        'X-Request-ID': this.#requestId,
        ...(close ? { Connection: 'close' } : {}),
      });
      res.end(body);
    }
    this.#finish(status, code);
  }

  #finish(status: number, error: ErrorCode | null): void {
    if (this.#done) return;
    this.#done = true;
    this.#res[kExchange] = undefined;
    const seconds = (performance.now() - this.#started) / 1000;
    const target = this.#target;
    const method = this.#req.method as string;
    target.metrics.request(method, status, seconds);
    const socket = this.#socket;
    const read = socket.bytesRead;
    const written = socket.bytesWritten;
    const connection = connectionOf(socket);
    const bytesIn = read - connection.read;
    const bytesOut = written - connection.written;
    connection.read = read;
    connection.written = written;
    target.metrics.bytes(bytesIn, bytesOut);
    if (this.#ctx.accessLog) {
      logHttpAccess(this.#ctx.logger, {
        requestId: this.#requestId,
        frontend: this.#state.frontend.name,
        backend: target.backend.name,
        server: this.#slot?.address ?? '',
        clientIp: this.#vars.clientIp,
        method,
        path: this.#req.url ?? '',
        status,
        durationMs: Math.round(seconds * 1e6) / 1e3,
        bytesIn,
        bytesOut,
        ...(error === null ? {} : { error }),
      });
    }
    if (this.#withBody && !this.#req.complete && !socket.destroyed) {
      connection.dropping = this.#req;
      discardRest(this.#req, socket);
    }
    // The exchange that has its connection's turn (see start) passes it on.
    if (connection.active === this) this.#passTurn(connection);
  }

  /** The next pipelined request of the connection goes, or the connection reads again. */
  #passTurn(connection: ConnectionState): void {
    let next = connection.waiting?.shift();
    // Requests whose client left while they waited are recorded here, in a loop: thousands
    // may wait, too many to recurse through.
    while (next !== undefined && (next.#gone || this.#socket.destroyed)) {
      next.#finish(CLIENT_CLOSED, 'RLB_ERR_CLIENT_ABORTED');
      next = connection.waiting?.shift();
    }
    if (next !== undefined) {
      next.#begin(connection);
      return;
    }
    connection.active = null;
    if (connection.waiting !== null) {
      connection.waiting = null;
      this.#socket.resume();
    }
  }
}

/**
 * The client connection closed: the exchange being proxied and those waiting for their
 * turn learn it (a pipelined response that has not reached the socket yet never sees the
 * close), so each is aborted and recorded, none dispatched.
 */
export function connectionGone(socket: IncomingMessage['socket']): void {
  const connection = (socket as TrackedSocket)[kConnection];
  if (connection === undefined) return;
  if (connection.waiting !== null) for (const waiting of connection.waiting) waiting.clientGone();
  connection.active?.clientGone();
}

/** The rest of the body of a request already answered is being dropped: Node's parser has not reached a new request. */
export function droppingBody(socket: IncomingMessage['socket']): boolean {
  const dropping = (socket as TrackedSocket)[kConnection]?.dropping;
  return dropping !== undefined && dropping !== null && !dropping.complete;
}

/** Byte counters for a socket that carried no proxied request (a rejected one): the rest since the last request. */
export function unaccountedBytes(socket: IncomingMessage['socket']): { bytesIn: number; bytesOut: number } {
  const s = socket as TrackedSocket;
  const a = connectionOf(s);
  const bytesIn = s.bytesRead - a.read;
  const bytesOut = s.bytesWritten - a.written;
  a.read = s.bytesRead;
  a.written = s.bytesWritten;
  return { bytesIn, bytesOut };
}
