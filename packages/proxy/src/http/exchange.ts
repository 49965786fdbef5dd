import type { TLSSocket } from 'node:tls';
import type { ErrorCode } from '@rustlb/core';
import { chunkSizeLine, LAST_CHUNK, type RequestHead, type ResponseHead } from '@rustlb/http1';
import { logHttpAccess } from '@rustlb/telemetry';
import type { ProxyContext } from '../context.js';
import type { ServerSlot } from '../server-slot.js';
import type { ClientConnection } from './client-connection.js';
import { errorResponse, statusOf } from './error-page.js';
import { ClientFraming, clientResponseHead, requestIdOf, upstreamRequestHead } from './headers.js';
import type { HttpState } from './http-state.js';
import type { RouteTarget } from './route.js';
import type { TemplateVars } from './template.js';
import { Tunnel } from './upgrade.js';
import type { ResponseHandler, UpstreamConnection } from './upstream-connection.js';
import { failureCode, type UpstreamFailure } from './upstream-errors.js';
import type { ConnectWaiter } from './upstream-pool.js';

/** The access log's TLS fields of a client connection (read only when a line is written). */
function tlsFields(socket: TLSSocket): { tlsVersion: string; tlsCipher: string } {
  return { tlsVersion: socket.getProtocol() ?? '', tlsCipher: socket.getCipher()?.name ?? '' };
}

/** Idempotent methods (RFC 9110 §9.2.2): safe to send again after a failure. */
export const IDEMPOTENT: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** Status recorded when the client leaves before any response (nginx's convention). */
export const CLIENT_CLOSED = 499;

const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';
const CRLF = '\r\n';

/** Above this, body bytes are not copied behind the head: head and body go out in one writev instead. */
const COPY_BEHIND_HEAD_MAX = 16 * 1024;

/** What happens to the client connection after this exchange. */
enum After {
  KeepAlive = 0,
  Close = 1,
}

/**
 * One proxied request: picks a server, takes a pooled connection (or opens one), writes
 * the rewritten head and the body, relays the answer with backpressure, retries what is
 * safe to retry, and records the outcome once. It is the upstream connection's response
 * handler and the pool's connect waiter (method calls, no closure per request).
 */
export class Exchange implements ResponseHandler, ConnectWaiter {
  readonly #ctx: ProxyContext;
  readonly #state: HttpState;
  readonly #conn: ClientConnection;
  readonly head: RequestHead;
  readonly #target: RouteTarget;
  readonly #started: number;
  readonly #vars: TemplateVars;
  readonly #requestId: string;
  readonly withBody: boolean;
  readonly #websocket: boolean;
  #after: After;
  #slot: ServerSlot | null = null;
  #slotHeld = false;
  #avoid: Set<ServerSlot> | null = null;
  #up: UpstreamConnection | null = null;
  #connecting = false;
  /** The current attempt is on a connection of its own (a retry after a reset), not a pooled one. */
  #fresh = false;
  /** Body pieces read before a server connection took the request. */
  #pending: Buffer[] | null = null;
  /** The client sent the whole body. */
  #bodyDone: boolean;
  /** A body byte went to a server: the request can no longer go elsewhere. */
  #bodyWritten = false;
  /** The client waits for `100 Continue` before it sends the body. */
  #continue: boolean;
  #framing = ClientFraming.AsIs;
  #headSent = false;
  /** The response head, held until the body bytes read with it join it in one write. */
  #held: string | null = null;
  #status = 0;
  #gone = false;
  #done = false;
  /** start() was called: a server is being, or was, looked for. */
  #begun = false;

  constructor(ctx: ProxyContext, state: HttpState, conn: ClientConnection, head: RequestHead, target: RouteTarget, websocket: boolean, started: number) {
    this.#ctx = ctx;
    this.#state = state;
    this.#conn = conn;
    this.head = head;
    this.#target = target;
    this.#started = started;
    this.#vars = { clientIp: conn.clientIp, clientPort: conn.clientPort, backendName: target.backend.name, backendAddr: '' };
    this.#requestId = requestIdOf(state, head, this.#vars, ctx.ids);
    this.withBody = head.bodyKind === 'chunked' || (head.bodyKind === 'length' && head.contentLength > 0);
    this.#bodyDone = !this.withBody;
    this.#continue = head.expectContinue && this.withBody;
    this.#websocket = websocket;
    // A WebSocket connection becomes a tunnel or closes after the answer.
    this.#after = head.close || websocket || ctx.draining || state.closing ? After.Close : After.KeepAlive;
  }

  get done(): boolean {
    return this.#done;
  }

  /** The connection must close after this answer (a non-WebSocket upgrade, never honoured). */
  closeAfter(): void {
    this.#after = After.Close;
  }

  start(): void {
    if (this.#done) return;
    this.#begun = true;
    this.#next(null);
  }

  // ---- request body, from the client connection -----------------------------------

  /** A piece of the request body (unframed). Returns false when the client should stop sending for now. */
  bodyData(buf: Buffer, start: number, end: number): boolean {
    if (this.#done) return true;
    this.#continue = false;
    const up = this.#up;
    if (up === null) {
      // No server connection yet: hold it (the client is paused meanwhile, so at most a read's worth).
      const piece = start === 0 && end === buf.length ? buf : buf.subarray(start, end);
      if (this.#pending === null) this.#pending = [piece];
      else this.#pending.push(piece);
      return false;
    }
    this.#bodyWritten = true;
    return this.#writeBody(up, buf.subarray(start, end));
  }

  #writeBody(up: UpstreamConnection, piece: Buffer): boolean {
    const s = up.socket;
    if (this.head.bodyKind !== 'chunked') return s.write(piece);
    s.cork();
    s.write(chunkSizeLine(piece.length), 'latin1');
    s.write(piece);
    const ok = s.write(CRLF, 'latin1');
    s.uncork();
    return ok;
  }

  /** The client sent the last byte of the body. */
  bodyEnd(): void {
    this.#bodyDone = true;
    if (this.#done) return;
    const up = this.#up;
    if (up !== null && this.head.bodyKind === 'chunked') up.socket.write(LAST_CHUNK, 'latin1');
  }

  /** The body broke after its head was taken (a chunked framing error): 400, or a cut answer. */
  badBody(detail: string): void {
    if (this.#done) return;
    this.#after = After.Close;
    this.#abortUpstream();
    this.#answer('RLB_ERR_BAD_REQUEST', detail);
  }

  // ---- choosing and reaching a server -----------------------------------------------

  /** Picks a server not yet tried and sends the request there, or answers 503/the last failure. */
  #next(failure: UpstreamFailure | null): void {
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
    this.#slotHeld = true;
    slot.localActive++;
    this.#ctx.hooks.activeChanged(slot);
    this.#vars.backendAddr = slot.address;
    const pool = slot.pool(this.#state.pool);
    // A retry goes on a connection of its own, so it cannot land on another stale pooled one;
    // a tunnel's connection is never pooled afterwards, so it never takes a pooled one; nor
    // does a request whose connection carries its client's PROXY header.
    const up = fresh || this.#websocket || pool.private ? null : pool.take();
    if (up !== null) {
      this.onUpstreamReady(up);
      return;
    }
    this.#connecting = true;
    pool.open(this, pool.private ? this.#conn.proxyHeader(pool.link.sendProxy ?? 'v1') : null);
  }

  #releaseSlot(): void {
    const slot = this.#slot;
    if (slot === null || !this.#slotHeld) return;
    this.#slotHeld = false;
    slot.localActive--;
    this.#ctx.hooks.activeChanged(slot);
  }

  /** A connection to the chosen server: write the request. */
  onUpstreamReady(up: UpstreamConnection): void {
    this.#connecting = false;
    if (this.#done || this.#gone) {
      // Nobody wants it now; it never carried a byte, so another request may.
      up.pool.release(up);
      return;
    }
    this.#up = up;
    const slot = this.#slot as ServerSlot;
    const head = upstreamRequestHead({
      head: this.head,
      state: this.#state,
      vars: this.#vars,
      requestId: this.#requestId,
      trustedPeer: this.#state.trusted !== null && this.#state.isTrusted(this.#vars.clientIp),
      upgrade: this.#websocket,
      defaultHost: slot.address,
      secure: this.#conn.secure,
    });
    // A server connection takes the request: now the client may send its body (unless it
    // already has: RFC 9110 §10.1.1 lets the 100 be omitted then).
    if (this.#continue) {
      this.#continue = false;
      if (this.#pending === null && !this.#bodyDone) this.#conn.socket.write(CONTINUE, 'latin1');
    }
    const s = up.socket;
    s.cork();
    s.write(head, 'latin1');
    const pending = this.#pending;
    let ok = true;
    if (pending !== null) {
      this.#pending = null;
      this.#bodyWritten = true;
      for (let i = 0; i < pending.length; i++) ok = this.#writeBody(up, pending[i] as Buffer);
    }
    if (this.#bodyDone && this.head.bodyKind === 'chunked') ok = s.write(LAST_CHUNK, 'latin1');
    s.uncork();
    up.expectResponse(this, this.head.method === 'HEAD', this.#websocket);
    // The client's stall clock starts when it may send again (the wait for this connection was rustlb's).
    this.#conn.restartStallClock();
    if (!this.#bodyDone && ok) this.#conn.resumeBody();
  }

  onUpstreamDrain(): void {
    if (!this.#bodyDone && !this.#done) this.#conn.resumeBody();
  }

  onUpstreamFailed(failure: UpstreamFailure, detail: string): void {
    this.#connecting = false;
    this.#failed(failure, detail);
  }

  onUpstreamError(failure: UpstreamFailure, detail: string, up: UpstreamConnection): void {
    if (this.#up === up) this.#up = null;
    this.#failed(failure, detail);
  }

  #failed(failure: UpstreamFailure, detail: string): void {
    this.#releaseSlot();
    if (this.#done) return;
    const slot = this.#slot as ServerSlot;
    if (this.#gone || this.#conn.socket.destroyed) {
      this.#finish(this.#status === 0 ? CLIENT_CLOSED : this.#status, 'RLB_ERR_CLIENT_ABORTED');
      return;
    }
    if (this.#headSent) {
      // A response byte reached the client: nothing may be retried. Closing the client
      // connection tells it the response is incomplete (never a fake complete one).
      this.#ctx.logger.warn({ requestId: this.#requestId, server: slot.key, err: detail }, 'upstream failed mid-response');
      if (failure === 'response-timeout') this.#ctx.hooks.passiveFailure(slot, 'response-timeout');
      this.#conn.socket.destroy();
      this.#finish(this.#status, failureCode(failure));
      return;
    }
    const bodyUntouched = !this.#bodyWritten;
    switch (failure) {
      case 'connect-refused':
      case 'connect-timeout':
      case 'tls':
        // A certificate that does not verify is a misconfiguration an operator must see at once.
        if (failure === 'tls')
          this.#ctx.logger.warn({ requestId: this.#requestId, server: slot.key, err: detail, failure }, 'TLS handshake with the server failed');
        this.#ctx.hooks.passiveFailure(slot, failure === 'connect-refused' ? 'refused' : failure);
        if (bodyUntouched) {
          this.#elsewhere(slot, failure);
          return;
        }
        break;
      case 'reset': {
        const retryable = !this.withBody && IDEMPOTENT.has(this.head.method);
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
    this.#ctx.logger.warn({ requestId: this.#requestId, server: slot.key, err: detail, failure }, 'upstream request failed');
    this.#answer(failureCode(failure), null);
  }

  // ---- the response --------------------------------------------------------------

  onResponseHead(head: ResponseHead, up: UpstreamConnection): boolean {
    const slot = this.#slot as ServerSlot;
    this.#ctx.hooks.passiveSuccess(slot);
    this.#status = head.status;
    if (head.status === 101) {
      // Only a WebSocket handshake expects a 101 (the connection asked for nothing else).
      this.#splice(head, up);
      return false;
    }
    if (this.#websocket) this.#after = After.Close; // declined: never a raw pipe afterwards
    const http10 = this.head.versionMinor === 0;
    if (head.bodyKind === 'chunked' || head.bodyKind === 'close') {
      this.#framing = http10 ? ClientFraming.UntilClose : ClientFraming.Chunked;
      if (http10) this.#after = After.Close;
    } else {
      this.#framing = ClientFraming.AsIs;
    }
    const close = this.#after === After.Close || this.#ctx.draining || this.#state.closing;
    if (close) this.#after = After.Close;
    const connection = close ? 'close' : http10 ? 'keep-alive' : null;
    const text = clientResponseHead(head, this.#state, this.#vars, this.#requestId, this.#framing, connection, false);
    this.#headSent = true;
    // Head and the body bytes that came with it leave in one write (see onResponseData, flush).
    this.#held = text;
    if (this.head.method === 'HEAD') this.#framing = ClientFraming.AsIs;
    return true;
  }

  onResponseData(buf: Buffer, start: number, end: number): boolean {
    const socket = this.#conn.socket;
    if (socket.destroyed) return true;
    const held = this.#held;
    this.#held = null;
    const size = end - start;
    if (this.#framing !== ClientFraming.Chunked) {
      if (held === null) return socket.write(start === 0 && end === buf.length ? buf : buf.subarray(start, end));
      if (size <= COPY_BEHIND_HEAD_MAX) {
        const out = Buffer.allocUnsafe(held.length + size);
        out.write(held, 0, 'latin1');
        buf.copy(out, held.length, start, end);
        return socket.write(out);
      }
      socket.cork();
      socket.write(held, 'latin1');
      const ok = socket.write(buf.subarray(start, end));
      socket.uncork();
      return ok;
    }
    socket.cork();
    socket.write(held === null ? chunkSizeLine(size) : held + chunkSizeLine(size), 'latin1');
    socket.write(buf.subarray(start, end));
    const ok = socket.write(CRLF, 'latin1');
    socket.uncork();
    return ok;
  }

  /** The head read without body bytes after it (they come later, or there are none). */
  flush(): void {
    const held = this.#held;
    if (held === null) return;
    this.#held = null;
    const socket = this.#conn.socket;
    if (!socket.destroyed) socket.write(held, 'latin1');
  }

  /** The client took what was written: the server may send more. */
  clientDrained(): void {
    const up = this.#up;
    if (up?.socket.isPaused() && !this.#done) up.socket.resume();
  }

  onResponseEnd(up: UpstreamConnection, reusable: boolean): void {
    this.#up = null;
    this.#releaseSlot();
    // A connection whose request body was not all sent (an early answer) is out of step.
    if (reusable && this.#bodyDone && !this.#gone) up.pool.release(up);
    else up.destroy();
    if (this.#done) return;
    const socket = this.#conn.socket;
    const held = this.#held;
    this.#held = null;
    const last = this.#framing === ClientFraming.Chunked && this.head.method !== 'HEAD';
    if (!socket.destroyed) {
      if (held !== null) socket.write(last ? held + LAST_CHUNK : held, 'latin1');
      else if (last) socket.write(LAST_CHUNK, 'latin1');
    }
    this.#finish(this.#status, null);
  }

  /** The server accepted the upgrade: relay its 101, then bytes flow both ways unchanged. */
  #splice(head: ResponseHead, up: UpstreamConnection): void {
    this.#up = null;
    const rest = up.takeRest();
    const upstream = up.detach();
    const text = clientResponseHead(head, this.#state, this.#vars, this.#requestId, ClientFraming.AsIs, null, true);
    const client = this.#conn.detach();
    if (client.destroyed) {
      upstream.destroy();
      this.#releaseSlot();
      this.#finish(CLIENT_CLOSED, 'RLB_ERR_CLIENT_ABORTED');
      return;
    }
    client.write(text, 'latin1');
    if (rest !== null) client.write(rest);
    const early = this.#conn.takeBuffered();
    if (early !== null) upstream.write(early);
    this.#conn.frontend.tunnel(new Tunnel(client, upstream, this));
  }

  /** The tunnel closed: the exchange is recorded now (its status is the 101). */
  tunnelClosed(idle: boolean): void {
    this.#releaseSlot();
    this.#finish(this.#status, idle ? 'RLB_ERR_CLIENT_TIMEOUT' : null);
  }

  // ---- the client side ------------------------------------------------------------

  /** The client left: stop the upstream side and record it. */
  clientGone(): void {
    if (this.#gone || this.#done) return;
    this.#gone = true;
    this.#abortUpstream();
    if (this.#connecting) {
      // The connect goes on; its connection goes back to the pool when it comes.
      this.#releaseSlot();
    }
    this.#finish(this.#status === 0 ? CLIENT_CLOSED : this.#status, 'RLB_ERR_CLIENT_ABORTED');
  }

  #abortUpstream(): void {
    const up = this.#up;
    if (up !== null) {
      this.#up = null;
      up.abort();
      this.#releaseSlot();
    }
  }

  /**
   * The sweep's look at this exchange: the server owes a response for too long
   * (http.timeouts.response, between any two bytes), or the client stopped sending the
   * body it owes or reading the response (client_stall).
   */
  check(now: number, stalledFor: number): void {
    if (this.#done) return;
    const up = this.#up;
    if (up !== null && this.#bodyDone && up.waitingFor(now) >= this.#state.responseTimeoutMs) {
      up.timeout();
      return;
    }
    if (stalledFor < this.#state.frontend.http.timeouts.clientStallMs) return;
    const socket = this.#conn.socket;
    const uploadStalled = !this.#bodyDone && !this.#continue && up !== null && !this.#conn.pausedByUs;
    if (!uploadStalled && !socket.writableNeedDrain) return;
    this.#gone = true;
    this.#ctx.logger.info({ requestId: this.#requestId, clientIp: this.#vars.clientIp, uploadStalled }, 'client stalled');
    this.#abortUpstream();
    if (this.#headSent) {
      socket.destroy();
      this.#finish(this.#status, 'RLB_ERR_CLIENT_STALLED');
    } else {
      this.#after = After.Close;
      this.#answer('RLB_ERR_CLIENT_STALLED', null);
    }
  }

  /** Answers with an error of rustlb's own, unless a response has begun. */
  #answer(code: ErrorCode, detail: string | null): void {
    const socket = this.#conn.socket;
    const status = statusOf(code);
    if (!this.#headSent && !socket.destroyed) {
      // After a malformed request the connection's framing cannot be trusted; a client still
      // waiting for its 100 may send its body or not: either way, close.
      if (status === 400 || status === 408 || status === 431 || status === 505 || this.#ctx.draining || this.#state.closing) this.#after = After.Close;
      if (!this.#bodyDone && this.head.expectContinue && this.#pending === null && !this.#bodyWritten) this.#after = After.Close;
      this.#headSent = true;
      socket.write(errorResponse(code, this.#requestId, detail, this.#after === After.Close), 'latin1');
    }
    this.#finish(status, code);
  }

  #finish(status: number, error: ErrorCode | null): void {
    if (this.#done) return;
    this.#done = true;
    this.#pending = null;
    const seconds = (performance.now() - this.#started) / 1000;
    const target = this.#target;
    const method = this.head.method;
    target.metrics.request(method, status, seconds);
    this.#slot?.recordRequest(this.#ctx.metrics, status, seconds);
    this.#conn.countBytes(target.metrics);
    if (this.#ctx.accessLog) {
      logHttpAccess(this.#ctx.logger, {
        requestId: this.#requestId,
        frontend: this.#state.frontend.name,
        backend: target.backend.name,
        server: this.#slot?.address ?? '',
        clientIp: this.#vars.clientIp,
        method,
        path: this.head.target,
        status,
        durationMs: Math.round(seconds * 1e6) / 1e3,
        bytesIn: this.#conn.shareIn,
        bytesOut: this.#conn.shareOut,
        ...(error === null ? {} : { error }),
        ...(this.#conn.secure ? tlsFields(this.#conn.socket as TLSSocket) : {}),
      });
    }
    if (this.#status === 101 && error === null) return; // a tunnel: the connection is no longer HTTP
    this.#conn.exchangeDone(this, this.#after === After.Close || error === 'RLB_ERR_CLIENT_ABORTED' || error === 'RLB_ERR_CLIENT_STALLED');
  }

  /** Answered without a server (OPTIONS *). */
  answerLocally(text: string, status: number): void {
    this.#headSent = true;
    this.#status = status;
    this.#conn.socket.write(text, 'latin1');
    this.#finish(status, null);
  }

  get started(): boolean {
    return this.#begun;
  }

  get after(): 'close' | 'keep-alive' {
    return this.#after === After.Close ? 'close' : 'keep-alive';
  }
}
