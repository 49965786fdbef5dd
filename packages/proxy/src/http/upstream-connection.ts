import type { Socket } from 'node:net';
import { ChunkedDecoder, type ChunkSink, type HeadLimits, parseResponseHead, ResponseHead } from '@rustlb/http1';
import { ByteClock } from '../idle-sweep.js';
import type { UpstreamFailure } from './upstream-errors.js';
import type { UpstreamPool } from './upstream-pool.js';

/**
 * What an upstream connection tells the request it carries (the handler contract, as
 * undici's dispatch handlers): one method per event, no emitter, no closure per request.
 */
export interface ResponseHandler {
  /** A final (or 101) response head. Return false to stop: the connection is then destroyed by the caller. */
  onResponseHead(head: ResponseHead, up: UpstreamConnection): boolean;
  /** Body bytes, unframed. Return false when the client cannot take more now (the connection pauses). */
  onResponseData(buf: Buffer, start: number, end: number): boolean;
  /** The body is complete; `reusable` says whether the connection may serve another request. */
  onResponseEnd(up: UpstreamConnection, reusable: boolean): void;
  /** The connection failed before the response was complete. */
  onUpstreamError(failure: UpstreamFailure, detail: string, up: UpstreamConnection): void;
  /** The connection can take more request body bytes. */
  onUpstreamDrain(): void;
  /** Everything read so far was handed over: write what is held for one write. */
  flush(): void;
}

const kUpstream = Symbol('rustlb.upstream');
type UpstreamSocket = Socket & { [kUpstream]?: UpstreamConnection };

/** Response heads up to this size; a server is trusted more than a client, but not unbounded. */
const RESPONSE_LIMITS: HeadLimits = { maxHeadBytes: 64 * 1024, maxHeaders: 256 };
const CHUNK_LIMITS = { maxLineBytes: 4096, maxTrailerBytes: 16 * 1024 };

enum Phase {
  /** In the pool, or connecting: no request. */
  Idle = 0,
  /** A request was written; waiting for the response head. */
  Head = 1,
  Body = 2,
  /** Handed over to a tunnel: this object no longer reads the socket. */
  Detached = 3,
  Dead = 4,
}

function onUpstreamData(this: UpstreamSocket, chunk: Buffer): void {
  this[kUpstream]?.data(chunk);
}
function onUpstreamEnd(this: UpstreamSocket): void {
  this[kUpstream]?.ended();
}
function onUpstreamClose(this: UpstreamSocket): void {
  this[kUpstream]?.closed();
}
function onUpstreamDrain(this: UpstreamSocket): void {
  this[kUpstream]?.handler?.onUpstreamDrain();
}
function onUpstreamError(this: UpstreamSocket, err: NodeJS.ErrnoException): void {
  const up = this[kUpstream];
  if (up !== undefined) up.lastError = err;
}

/**
 * One connection to an upstream server: writes requests, parses each response with the
 * http1 codec and hands its body to the request's handler by its framing. Owned by an
 * UpstreamPool between requests.
 */
export class UpstreamConnection implements ChunkSink {
  readonly socket: UpstreamSocket;
  /** Where it goes back when its response is complete and it may serve another request. */
  readonly pool: UpstreamPool;
  handler: ResponseHandler | null = null;
  /** When it was put back in the pool (performance.now()), for upstream_idle. */
  idleSince = 0;
  lastError: NodeJS.ErrnoException | null = null;
  #phase = Phase.Idle;
  #headRequest = false;
  /** 101 answers are final only for an upgrade request. */
  #upgrade = false;
  #pending: Buffer | null = null;
  #remaining = 0;
  #decoder: ChunkedDecoder | null = null;
  #head: ResponseHead | null = null;
  /** Since a byte last came from the server while a response is owed (the response-timeout sweep's). */
  readonly #wait = new ByteClock();

  constructor(socket: Socket, pool: UpstreamPool) {
    this.socket = socket as UpstreamSocket;
    this.pool = pool;
    this.socket[kUpstream] = this;
    socket.on('data', onUpstreamData);
    socket.on('end', onUpstreamEnd);
    socket.on('close', onUpstreamClose);
    socket.on('drain', onUpstreamDrain);
    socket.on('error', onUpstreamError);
  }

  get alive(): boolean {
    return this.#phase !== Phase.Dead && !this.socket.destroyed;
  }

  /** The request's head (and any body bytes) were written: read its response. */
  expectResponse(handler: ResponseHandler, headRequest: boolean, upgrade: boolean): void {
    this.handler = handler;
    this.#phase = Phase.Head;
    this.#headRequest = headRequest;
    this.#upgrade = upgrade;
    this.#wait.forget();
    if (this.socket.isPaused()) this.socket.resume();
  }

  /**
   * Milliseconds without a byte from the server while a response is owed (the sweep
   * calls it; byte counters instead of a timer re-armed per chunk).
   */
  waitingFor(now: number): number {
    if (this.#phase !== Phase.Head && this.#phase !== Phase.Body) return 0;
    // Paused because the client reads slowly: that wait is the client's (client_stall), not the server's.
    if (this.socket.isPaused()) {
      this.#wait.restart(this.socket.bytesRead, now);
      return 0;
    }
    return this.#wait.stillFor(this.socket.bytesRead, now);
  }

  /** @internal socket data */
  data(chunk: Buffer): void {
    if (this.#phase === Phase.Idle) {
      // A server talking out of turn: whatever it is, this connection is unusable.
      this.destroy();
      return;
    }
    if (this.#phase !== Phase.Head && this.#phase !== Phase.Body) return;
    let buf = chunk;
    if (this.#pending !== null) {
      buf = Buffer.concat([this.#pending, chunk]);
      this.#pending = null;
    }
    this.#consume(buf, 0);
    this.handler?.flush();
  }

  #consume(buf: Buffer, from: number): void {
    let pos = from;
    const end = buf.length;
    while (pos < end || this.#phase === Phase.Body) {
      if (this.#phase === Phase.Head) {
        const head = new ResponseHead();
        const n = parseResponseHead(buf, pos, end, this.#headRequest, RESPONSE_LIMITS, head);
        if (n === 0) {
          this.#pending = pos === 0 ? buf : buf.subarray(pos);
          return;
        }
        if (n < 0) {
          this.#fail('bad-response', `invalid response head: ${head.errorDetail ?? head.error}`);
          return;
        }
        pos = n;
        if (head.status < 200 && !(head.status === 101 && this.#upgrade)) continue; // interim answers are not relayed
        this.#head = head;
        const handler = this.handler as ResponseHandler;
        if (head.status === 101) {
          this.#phase = Phase.Detached;
          // The rest belongs to the tunnel.
          if (pos < end) this.#pending = buf.subarray(pos);
          handler.onResponseHead(head, this);
          return;
        }
        this.#phase = Phase.Body;
        if (head.bodyKind === 'length') this.#remaining = head.contentLength;
        else if (head.bodyKind === 'chunked') {
          if (this.#decoder === null) this.#decoder = new ChunkedDecoder(CHUNK_LIMITS);
          else this.#decoder.reset();
        }
        if (!handler.onResponseHead(head, this)) return;
        if (this.#phase !== Phase.Body) return;
      }
      // Phase.Body
      const head = this.#head as ResponseHead;
      const handler = this.handler as ResponseHandler;
      switch (head.bodyKind) {
        case 'none':
          this.#complete(pos === end);
          return;
        case 'length': {
          const take = Math.min(this.#remaining, end - pos);
          if (take > 0) {
            this.#remaining -= take;
            const to = pos + take;
            if (!handler.onResponseData(buf, pos, to)) this.socket.pause();
            pos = to;
          }
          if (this.#remaining === 0) {
            this.#complete(pos === end);
            return;
          }
          return;
        }
        case 'chunked': {
          const decoder = this.#decoder as ChunkedDecoder;
          const n = decoder.feed(buf, pos, end, this);
          if (n < 0) {
            this.#fail('bad-response', `invalid chunked body: ${decoder.error}`);
            return;
          }
          if (this.#phase !== Phase.Body) return;
          if (decoder.done) this.#complete(n === end);
          return;
        }
        default:
          // Until the server closes.
          if (pos < end && !handler.onResponseData(buf, pos, end)) this.socket.pause();
          return;
      }
    }
  }

  /** @internal the chunked decoder's data */
  chunkData(buf: Buffer, start: number, end: number): void {
    if (this.#phase === Phase.Body && !(this.handler as ResponseHandler).onResponseData(buf, start, end)) this.socket.pause();
  }

  /** The rest of the bytes read after a 101, for the tunnel. */
  takeRest(): Buffer | null {
    const rest = this.#pending;
    this.#pending = null;
    return rest;
  }

  /** Stops reading for the request's handler: the socket now belongs to a tunnel. */
  detach(): Socket {
    this.#phase = Phase.Detached;
    this.handler = null;
    const s = this.socket;
    s.off('data', onUpstreamData);
    s.off('end', onUpstreamEnd);
    s.off('close', onUpstreamClose);
    s.off('drain', onUpstreamDrain);
    s[kUpstream] = undefined;
    return s;
  }

  #complete(clean: boolean): void {
    const handler = this.handler as ResponseHandler;
    const head = this.#head as ResponseHead;
    this.#head = null;
    this.#phase = Phase.Idle;
    this.handler = null;
    // Bytes past the response (a body after a 204/304, a server that pipelines junk)
    // desynchronise the connection: it is never reused.
    handler.onResponseEnd(this, clean && !head.close && !this.socket.readableEnded);
  }

  /** @internal the server ended its side. */
  ended(): void {
    if (this.#phase === Phase.Body && this.#head?.bodyKind === 'close') {
      this.#complete(false);
      return;
    }
    if (this.#phase === Phase.Head || this.#phase === Phase.Body) {
      this.#fail(this.#phase === Phase.Head ? 'reset' : 'bad-response', 'server closed the connection before the response was complete');
      return;
    }
    this.destroy();
  }

  /** @internal */
  closed(): void {
    if (this.#phase === Phase.Head || this.#phase === Phase.Body) {
      this.#fail('reset', this.lastError?.code ?? 'connection closed');
    }
    this.#phase = Phase.Dead;
  }

  #fail(failure: UpstreamFailure, detail: string): void {
    const handler = this.handler;
    this.#phase = Phase.Dead;
    this.handler = null;
    this.socket.destroy();
    handler?.onUpstreamError(failure, detail, this);
  }

  /** The request's side gives up (client gone, timeout): nothing more is reported. */
  abort(): void {
    this.handler = null;
    this.#phase = Phase.Dead;
    this.socket.destroy();
  }

  /** Times out a response the sweep found overdue. */
  timeout(): void {
    this.#fail('response-timeout', 'no response in time');
  }

  destroy(): void {
    this.#phase = Phase.Dead;
    this.handler = null;
    this.socket.destroy();
  }
}
