import type { Socket } from 'node:net';
import { type ErrorCode, normalizeIp } from '@rustlb/core';
import { ChunkedDecoder, type ChunkSink, type H1Code, h1Status, parseRequestHead, RequestHead } from '@rustlb/http1';
import { logHttpAccess } from '@rustlb/telemetry';
import { ByteClock, bytesMoved } from '../idle-sweep.js';
import type { ClientAddress } from '../intake.js';
import { encodeProxyHeader } from '../proxy-protocol.js';
import { errorResponse, statusOf } from './error-page.js';
import { CLIENT_CLOSED, Exchange } from './exchange.js';
import { incomingRequestId } from './headers.js';
import type { HttpFrontend } from './http-frontend.js';

const kConnection = Symbol('rustlb.client');
type ClientSocket = Socket & { [kConnection]?: ClientConnection };

const CHUNK_LIMITS = { maxLineBytes: 4096, maxTrailerBytes: 16 * 1024 };

const ALLOW = 'GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH';

/** The connection serving a client socket (one property on the socket, nothing else). */
export function clientConnectionOf(socket: Socket): ClientConnection | undefined {
  return (socket as ClientSocket)[kConnection];
}

function onClientData(this: ClientSocket, chunk: Buffer): void {
  this[kConnection]?.data(chunk);
}
function onClientEnd(this: ClientSocket): void {
  this[kConnection]?.ended();
}
function onClientDrain(this: ClientSocket): void {
  this[kConnection]?.exchange?.clientDrained();
}
function ignoreError(): void {}

enum Phase {
  /** Waiting for (or reading) a request head. */
  Head = 0,
  /** Reading the body of the current request. */
  Body = 1,
  /** Reading and dropping the rest of a body already answered. */
  Discard = 2,
  /** Nothing more is read: closing, or handed to a tunnel. */
  Done = 3,
}

/** Why rustlb has paused reading the client. */
const PAUSED_BACKPRESSURE = 1;
const PAUSED_PIPELINED = 2;
/** Bytes of pipelined requests held unparsed while the one before them is answered. */
const PIPELINE_HELD_MAX = 64 * 1024;

function codeOf(h1: H1Code): ErrorCode {
  switch (h1Status(h1)) {
    case 431:
      return 'RLB_ERR_HEADERS_TOO_LARGE';
    case 505:
      return 'RLB_ERR_HTTP_VERSION';
    case 501:
      return 'RLB_ERR_NOT_IMPLEMENTED';
    default:
      return 'RLB_ERR_BAD_REQUEST';
  }
}

/**
 * One client connection of an HTTP frontend: reads request heads with the http1 codec,
 * hands each request to an Exchange, feeds it the body by its framing, and takes the
 * next request only when the previous answer is complete (pipelined requests go upstream
 * one at a time). Nothing of a refused request, and nothing after it, reaches a server.
 * Timeouts are looked at by the frontend's sweep: no timer per connection.
 */
export class ClientConnection implements ChunkSink {
  readonly socket: ClientSocket;
  readonly frontend: HttpFrontend;
  readonly clientIp: string;
  readonly clientPort: string;
  /** TLS terminated on this connection (X-Forwarded-Proto: https). */
  readonly secure: boolean;
  /** The exchange whose answer is being written (at most one). */
  exchange: Exchange | null = null;
  /** Bits of PAUSED_*: rustlb, not the kernel, holds the client back. */
  #paused = 0;
  #phase = Phase.Head;
  /** Bytes read and not yet consumed (a partial head, or requests pipelined behind the current one). */
  #buf: Buffer | null = null;
  /** The exchange the body bytes go to (null while discarding). */
  #bodyFor: Exchange | null = null;
  #remaining = 0;
  #decoder: ChunkedDecoder | null = null;
  /** Answers completed on this connection. */
  #served = 0;
  /** When waiting for a head started (accept or end of the last answer), and when its first byte came. */
  #idleSince: number;
  #headStarted = 0;
  /** The request being handled closes the connection: bytes after it are never read. */
  #last = false;
  #clientEnded = false;
  /** Byte counters already counted in metrics. */
  #read = 0;
  #written = 0;
  /** The last share counted by countBytes. */
  shareIn = 0;
  shareOut = 0;
  /** The stall clock: since a byte last moved either way on the client socket, as the sweeps saw it. */
  readonly #stall = new ByteClock();
  #processing = false;

  constructor(socket: Socket, frontend: HttpFrontend, client: ClientAddress, secure: boolean) {
    this.socket = socket as ClientSocket;
    this.socket[kConnection] = this;
    this.frontend = frontend;
    this.clientIp = client.ip;
    this.clientPort = String(client.port);
    this.secure = secure;
    this.#idleSince = performance.now();
    socket.on('data', onClientData);
    socket.on('end', onClientEnd);
    socket.on('drain', onClientDrain);
    socket.on('error', ignoreError);
  }

  get pausedByUs(): boolean {
    return this.#paused !== 0;
  }

  /** @internal socket data */
  data(chunk: Buffer): void {
    // After a request that closes the connection, nothing past its body is read.
    if (this.#phase === Phase.Done || (this.#last && this.#phase === Phase.Head)) return;
    let buf = chunk;
    if (this.#buf !== null) {
      buf = Buffer.concat([this.#buf, chunk]);
      this.#buf = null;
    }
    this.#process(buf, 0);
  }

  #process(buf: Buffer, from: number): void {
    this.#processing = true;
    try {
      this.#loop(buf, from);
    } finally {
      this.#processing = false;
    }
  }

  #loop(buf: Buffer, from: number): void {
    let pos = from;
    const end = buf.length;
    for (;;) {
      const phase = this.#phase;
      if (phase === Phase.Body || phase === Phase.Discard) {
        pos = this.#feedBody(buf, pos, end);
        if (pos < 0) return;
        if (this.#phase === Phase.Body || this.#phase === Phase.Discard) return; // body not complete: all consumed
        continue;
      }
      if (phase !== Phase.Head) return;
      if (pos >= end) return;
      if (this.#last) {
        // Bytes after a request that closes the connection can never be a request (RFC 9112 §9.6).
        this.#pause(PAUSED_PIPELINED);
        return;
      }
      if (this.exchange !== null) {
        // Pipelined: its turn comes when the current answer is complete. Reading goes on up
        // to a bound (so a client that leaves is noticed), then stops until then.
        this.#buf = pos === 0 ? buf : buf.subarray(pos);
        if (this.#buf.length >= PIPELINE_HELD_MAX) this.#pause(PAUSED_PIPELINED);
        return;
      }
      const state = this.frontend.state;
      const head = new RequestHead();
      const n = parseRequestHead(buf, pos, end, state.limits, head);
      if (n === 0) {
        if (this.#headStarted === 0) this.#headStarted = performance.now();
        this.#buf = pos === 0 ? buf : Buffer.from(buf.subarray(pos));
        return;
      }
      if (n < 0) {
        this.#refuse(codeOf(head.error ?? 'H1_BAD_REQUEST_LINE'), head.errorDetail);
        return;
      }
      pos = n;
      this.#headStarted = 0;
      this.#request(head);
      // The body bytes already read are checked before the request goes anywhere: a body
      // found malformed here is refused with nothing sent.
      if (this.#phase === Phase.Body) {
        pos = this.#feedBody(buf, pos, end);
        if (pos < 0) return;
      }
      const ex = this.exchange as Exchange | null; // set by #request
      if (ex !== null && !ex.started && !ex.done) ex.start();
    }
  }

  /** A whole, valid head: an exchange for it (or an answer of rustlb's own). */
  #request(head: RequestHead): void {
    const fe = this.frontend;
    const state = fe.state;
    const started = performance.now();
    if (head.close) this.#last = true;
    const upgrade = head.connectionUpgrade && head.upgrade !== null;
    const websocket = upgrade && head.method === 'GET' && head.versionMinor === 1 && (head.upgrade as string).trim().toLowerCase() === 'websocket';
    const ex = new Exchange(fe.ctx, state, this, head, head.target === '*' ? state.fallback : state.route(head), websocket, started);
    this.exchange = ex;
    if (ex.withBody) {
      this.#phase = Phase.Body;
      this.#bodyFor = ex;
      if (head.bodyKind === 'chunked') {
        if (this.#decoder === null) this.#decoder = new ChunkedDecoder(CHUNK_LIMITS);
        else this.#decoder.reset();
      } else {
        this.#remaining = head.contentLength;
      }
    }
    if (upgrade && ex.withBody) {
      ex.badBody('an upgrade request cannot carry a body');
      return;
    }
    if (websocket) {
      // The connection becomes a tunnel or closes: nothing after this head is a request.
      this.#last = true;
    } else if (upgrade) {
      // Other upgrades (h2c above all) are never honoured: served as plain HTTP/1.1, then closed.
      ex.closeAfter();
      this.#last = true;
    }
    if (head.target === '*') {
      ex.answerLocally(`HTTP/1.1 200 OK\r\nAllow: ${ALLOW}\r\nContent-Length: 0\r\n${ex.after === 'close' ? 'Connection: close\r\n' : ''}\r\n`, 200);
    }
  }

  /** Consumes body bytes of buf[pos, end); returns where it stopped, or -1 if the body broke. */
  #feedBody(buf: Buffer, pos: number, end: number): number {
    if (this.#phase === Phase.Body ? this.#bodyFor?.head.bodyKind === 'chunked' : this.#decoder !== null && this.#remaining < 0) {
      const decoder = this.#decoder as ChunkedDecoder;
      const n = decoder.feed(buf, pos, end, this);
      if (n < 0) {
        this.#brokenBody(`malformed chunked body (${decoder.error})`);
        return -1;
      }
      if (decoder.done) this.#bodyComplete();
      return n;
    }
    const take = Math.min(this.#remaining, end - pos);
    if (take > 0) {
      this.#remaining -= take;
      const ex = this.#bodyFor;
      if (ex !== null && !ex.bodyData(buf, pos, pos + take)) this.#pause(PAUSED_BACKPRESSURE);
    }
    if (this.#remaining === 0) this.#bodyComplete();
    return pos + take;
  }

  /** @internal the chunked decoder's data */
  chunkData(buf: Buffer, start: number, end: number): void {
    const ex = this.#bodyFor;
    if (ex !== null && !ex.bodyData(buf, start, end)) this.#pause(PAUSED_BACKPRESSURE);
  }

  #bodyComplete(): void {
    const ex = this.#bodyFor;
    this.#bodyFor = null;
    this.#phase = Phase.Head;
    this.#remaining = 0;
    // Nothing of this body is left to hold back; what follows is the next request.
    this.#unpause(PAUSED_BACKPRESSURE);
    ex?.bodyEnd();
  }

  #brokenBody(detail: string): void {
    const ex = this.#bodyFor;
    if (this.#phase === Phase.Discard || ex === null || ex.done) {
      // The rest of an answered body broke: there is no request left to answer; the answer
      // may still be on its way out, so close once it is written.
      this.frontend.ctx.logger.debug({ frontend: this.frontend.name, clientIp: this.clientIp, detail }, 'rest of an answered body broke; closing');
      this.#phase = Phase.Done;
      this.socket.pause();
      this.socket.destroySoon();
      return;
    }
    this.#phase = Phase.Done;
    this.#bodyFor = null;
    this.socket.pause();
    ex.badBody(detail);
  }

  /** The upstream took the body bytes written so far: read more. */
  resumeBody(): void {
    this.#unpause(PAUSED_BACKPRESSURE);
  }

  #pause(why: number): void {
    if (this.#paused === 0) this.socket.pause();
    this.#paused |= why;
  }

  #unpause(why: number): void {
    if ((this.#paused & why) === 0) return;
    this.#paused &= ~why;
    if (this.#paused === 0 && this.#phase !== Phase.Done && !this.socket.destroyed) {
      this.restartStallClock();
      this.socket.resume();
    }
  }

  /** A head the codec refused: its status, the connection closed, nothing of it (or after it) forwarded. */
  #refuse(code: ErrorCode, detail: string | null): void {
    this.#phase = Phase.Done;
    this.#buf = null;
    this.socket.pause();
    const ctx = this.frontend.ctx;
    const requestId = ctx.ids.next();
    const socket = this.socket;
    socket.end(errorResponse(code, requestId, detail, true), 'latin1');
    this.#recordRefusal(code, requestId, detail);
  }

  #recordRefusal(code: ErrorCode, requestId: string, detail: string | null): void {
    const state = this.frontend.state;
    const status = statusOf(code);
    state.fallback.metrics.request('OTHER', status, 0);
    this.countBytes(state.fallback.metrics);
    if (this.frontend.ctx.accessLog) {
      logHttpAccess(this.frontend.ctx.logger, {
        requestId,
        frontend: state.frontend.name,
        backend: state.fallback.backend.name,
        server: '',
        clientIp: this.clientIp,
        method: '',
        path: '',
        status,
        durationMs: 0,
        bytesIn: this.shareIn,
        bytesOut: this.shareOut,
        error: code,
        ...(detail === null ? {} : { detail }),
      });
    }
  }

  /** The exchange's answer is complete (or it gave up): the next request, or the end of the connection. */
  exchangeDone(ex: Exchange, close: boolean): void {
    if (this.exchange !== ex) return;
    this.exchange = null;
    this.#served++;
    this.#idleSince = performance.now();
    if (close || this.#phase === Phase.Done || this.socket.destroyed) {
      this.#close();
      return;
    }
    if (this.#bodyFor === ex) {
      // Answered before its whole body came (a server answering 413 early, an error of
      // rustlb's own): the rest is read and dropped, so the connection carries the next request.
      this.#bodyFor = null;
      this.#phase = Phase.Discard;
      if (ex.head.bodyKind === 'chunked') this.#remaining = -1;
      this.#unpause(PAUSED_BACKPRESSURE);
    }
    if (this.#processing) return; // the loop in #process goes on with the next request
    const rest = this.#buf;
    if (rest !== null && this.#phase !== Phase.Head) return;
    if (rest !== null && this.#headStarted === 0) {
      this.#buf = null;
      this.#process(rest, 0);
      // Stashed again behind the next request in flight: it stays paused.
      if ((this.#phase as Phase) === Phase.Done || this.#buf !== null) return;
    }
    this.#unpause(PAUSED_PIPELINED);
    if (this.#clientEnded && this.exchange === null && this.#phase === Phase.Head && this.#buf === null) this.#close();
  }

  #close(): void {
    this.#phase = Phase.Done;
    this.#buf = null;
    this.socket.pause();
    if (!this.socket.destroyed) this.socket.end();
  }

  /** @internal the client ended its side. */
  ended(): void {
    this.#clientEnded = true;
    if (this.#phase === Phase.Done) return;
    const ex = this.exchange;
    if (ex !== null) {
      // A body it still owes will never come.
      if (this.#bodyFor === ex) {
        ex.clientGone();
        return;
      }
      // The one in flight is answered; those pipelined behind it are dropped, as Node's
      // server and HAProxy drop them when the client closes its side.
      this.#last = true;
      const rest = this.#buf;
      this.#buf = null;
      if (rest !== null && this.#headStarted === 0) this.#recordAbandoned(rest);
      return;
    }
    this.#close();
  }

  /** @internal the socket closed: whatever was in flight is abandoned. */
  closed(): void {
    this.#phase = Phase.Done;
    const rest = this.#buf;
    this.#buf = null;
    this.exchange?.clientGone();
    if (rest !== null && this.#headStarted === 0) this.#recordAbandoned(rest);
  }

  /**
   * Requests the client pipelined behind the one in flight and then left: never sent, but
   * each recorded as the client leaving (499), as if it had waited in a queue.
   */
  #recordAbandoned(buf: Buffer): void {
    const fe = this.frontend;
    const state = fe.state;
    let pos = 0;
    while (pos < buf.length) {
      const head = new RequestHead();
      const n = parseRequestHead(buf, pos, buf.length, state.limits, head);
      if (n <= 0) return;
      const target = head.target === '*' ? state.fallback : state.route(head);
      target.metrics.request(head.method, CLIENT_CLOSED, 0);
      if (fe.ctx.accessLog) {
        logHttpAccess(fe.ctx.logger, {
          requestId: incomingRequestId(head) ?? fe.ctx.ids.next(),
          frontend: state.frontend.name,
          backend: target.backend.name,
          server: '',
          clientIp: this.clientIp,
          method: head.method,
          path: head.target,
          status: CLIENT_CLOSED,
          durationMs: 0,
          bytesIn: 0,
          bytesOut: 0,
          error: 'RLB_ERR_CLIENT_ABORTED',
        });
      }
      if (head.bodyKind === 'chunked') return;
      pos = n + (head.bodyKind === 'length' ? head.contentLength : 0);
    }
  }

  /** Idle between requests with nothing half-read: safe to close while draining. */
  get idle(): boolean {
    // A new connection that has not sent its first request yet is not idle (Node's
    // closeIdleConnections spares it too): closing it would fail a client that just connected.
    return this.#served > 0 && this.exchange === null && this.#phase === Phase.Head && this.#buf === null;
  }

  /** Closes the connection if it is idle. */
  closeIfIdle(): void {
    if (this.idle) {
      this.#phase = Phase.Done;
      this.socket.destroy();
    }
  }

  /**
   * The sweep's look at this connection: a head not complete within client_header (408 on
   * a new connection, a silent close on a reused one), a keep-alive connection idle for
   * client_idle, an exchange's own timeouts.
   */
  check(now: number): void {
    if (this.#phase === Phase.Done) return;
    const ex = this.exchange;
    const t = this.frontend.state.frontend.http.timeouts;
    if (ex !== null) {
      ex.check(now, this.#stalledFor(now));
      return;
    }
    if (this.#phase === Phase.Discard) {
      if (this.#stalledFor(now) >= t.clientIdleMs) this.socket.destroy();
      return;
    }
    if (this.#served === 0 || this.#headStarted !== 0) {
      const since = this.#headStarted !== 0 ? this.#headStarted : this.#idleSince;
      if (now - since < t.clientHeaderMs) return;
      if (this.#served > 0) {
        // A keep-alive connection that started its next request and stalled: closed without a
        // 408, as nginx does (a client takes a close on a reused connection for the keep-alive race).
        this.#phase = Phase.Done;
        this.socket.destroy();
        return;
      }
      this.#phase = Phase.Done;
      this.#buf = null;
      this.socket.pause();
      const requestId = this.frontend.ctx.ids.next();
      this.socket.end(errorResponse('RLB_ERR_CLIENT_TIMEOUT', requestId, null, true), 'latin1');
      this.#recordRefusal('RLB_ERR_CLIENT_TIMEOUT', requestId, null);
      return;
    }
    if (now - this.#idleSince >= t.clientIdleMs) {
      this.#phase = Phase.Done;
      this.socket.destroy();
    }
  }

  /**
   * From now on the client owes bytes again: time spent waiting on rustlb's side (held
   * back while the server was slow, waiting for a connection or for the 100 to be sent)
   * is not the client's stall.
   */
  restartStallClock(): void {
    this.#stall.restart(bytesMoved(this.socket), performance.now());
  }

  #stalledFor(now: number): number {
    return this.#stall.stillFor(bytesMoved(this.socket), now);
  }

  /** The PROXY header a backend with send_proxy gets first: this client, and the address it reached. */
  proxyHeader(version: 'v1' | 'v2'): Buffer {
    return encodeProxyHeader(
      version,
      { address: this.clientIp, port: Number(this.clientPort) },
      {
        address: this.socket.localAddress === undefined ? (this.clientIp.includes(':') ? '::' : '0.0.0.0') : normalizeIp(this.socket.localAddress),
        port: this.socket.localPort ?? 0,
      },
    );
  }

  /**
   * Counts in `metrics` the bytes read and written since the last call (each request's
   * share of the socket's counters), and keeps that share in `shareIn`/`shareOut` for the
   * access line: nothing allocated per request.
   */
  countBytes(metrics: { bytes(inbound: number, outbound: number): void }): void {
    const s = this.socket;
    const read = s.bytesRead;
    const written = s.bytesWritten;
    this.shareIn = read - this.#read;
    this.shareOut = written - this.#written;
    this.#read = read;
    this.#written = written;
    metrics.bytes(this.shareIn, this.shareOut);
  }

  /** Hands the socket over to a tunnel: this object no longer reads it. */
  detach(): Socket {
    this.#phase = Phase.Done;
    this.exchange = null;
    const s = this.socket;
    s.off('data', onClientData);
    s.off('end', onClientEnd);
    s.off('drain', onClientDrain);
    return s;
  }

  /** Bytes the client sent after the head that became a tunnel. */
  takeBuffered(): Buffer | null {
    const b = this.#buf;
    this.#buf = null;
    return b;
  }
}
