import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';
import { normalizeIp } from '@rustlb/core';
import type { ProxyContext } from './context.js';
import { ProxyHeader, parseProxyHeader } from './proxy-protocol.js';
import type { TlsTerminator } from './tls-terminator.js';

/** Who the client is: the PROXY header's source when the frontend reads one, else the socket's peer. */
export interface ClientAddress {
  readonly ip: string;
  readonly port: number;
}

/** What happens to a connection between accept and its frontend, per frontend generation. */
export interface IntakeSettings {
  /** `proxy_protocol: accept`: a PROXY v1/v2 header comes first, within `proxyWaitMs`. */
  readonly proxyProtocol: boolean;
  readonly proxyWaitMs: number;
  /** TLS termination, or null. */
  readonly tls: TlsTerminator | null;
}

/** Why a connection never reached its frontend, or how its handshake went: counted by the owner. */
export interface IntakeEvents {
  proxyRejected(reason: string): void;
  tlsFailed(reason: string): void;
  tlsEstablished(seconds: number, socket: TLSSocket): void;
}

export const PLAIN: IntakeSettings = { proxyProtocol: false, proxyWaitMs: 0, tls: null };

/** The intake events of one frontend, counted in its metrics (HTTP and TCP frontends alike). */
export class IntakeCounter implements IntakeEvents {
  readonly #ctx: ProxyContext;
  readonly #frontend: () => string;

  /** `frontend` is read at each event: a reload keeps the name, but the frontend object owns it. */
  constructor(ctx: ProxyContext, frontend: () => string) {
    this.#ctx = ctx;
    this.#frontend = frontend;
  }

  proxyRejected(reason: string): void {
    const frontend = this.#frontend();
    this.#ctx.logger.debug({ frontend, reason }, 'connection without a valid PROXY header closed');
    this.#ctx.metrics.intake(frontend).proxyRejected(reason);
  }

  tlsFailed(reason: string): void {
    this.#ctx.metrics.intake(this.#frontend()).tlsFailed(reason);
  }

  tlsEstablished(seconds: number, socket: TLSSocket): void {
    this.#ctx.metrics.intake(this.#frontend()).tlsEstablished(seconds, socket.getProtocol() ?? 'unknown');
  }
}

/** Bytes a PROXY header may take before it is refused (v2: 16 + 4096, as the codec bounds it). */
const PROXY_MAX = 16 + 4096;

/** A socket read through a stream, with bytes already read put first. */
class Prepended extends Duplex {
  readonly #socket: Socket;

  constructor(socket: Socket, first: Buffer) {
    super({ allowHalfOpen: true });
    this.#socket = socket;
    this.push(first);
    socket.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) socket.pause();
    });
    socket.on('end', () => this.push(null));
    socket.on('close', () => this.destroy());
  }

  override _read(): void {
    this.#socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.#socket.write(chunk, cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.#socket.end(cb);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.#socket.destroy();
    cb(err);
  }
}

function peer(socket: Socket): ClientAddress {
  return { ip: normalizeIp(socket.remoteAddress), port: socket.remotePort ?? 0 };
}

function ignore(): void {}

/**
 * Takes an accepted (paused) connection through the frontend's intake: the PROXY header
 * if the frontend reads one (bounded wait; a connection without a valid header is closed
 * with nothing read past it), then TLS if it terminates TLS. `done` gets the socket to
 * speak to (a TLSSocket over the connection when TLS) and the client's address.
 */
export function intake(socket: Socket, settings: IntakeSettings, events: IntakeEvents, done: (socket: Socket, client: ClientAddress) => void): void {
  if (!settings.proxyProtocol) {
    finish(socket, peer(socket), settings, events, done);
    return;
  }
  let held: Buffer | null = null;
  const timer = setTimeout(() => {
    cleanup();
    events.proxyRejected('timeout');
    socket.destroy();
  }, settings.proxyWaitMs);
  const onData = (chunk: Buffer) => {
    const buf = held === null ? chunk : Buffer.concat([held, chunk]);
    const header = new ProxyHeader();
    const n = parseProxyHeader(buf, 0, buf.length, header);
    if (n === 0) {
      if (buf.length > PROXY_MAX) reject('too long');
      else held = buf;
      return;
    }
    if (n < 0) {
      reject(header.error ?? 'invalid');
      return;
    }
    cleanup();
    socket.pause();
    // LOCAL (a health check of the balancer in front) and UNKNOWN carry no client: the peer is it.
    const client =
      header.command === 'proxy' && header.family !== 'unknown' ? { ip: normalizeIp(header.sourceAddress), port: header.sourcePort } : peer(socket);
    if (n === buf.length) {
      finish(socket, client, settings, events, done);
      return;
    }
    const rest = buf.subarray(n);
    if (settings.tls === null) {
      socket.unshift(rest);
      finish(socket, client, settings, events, done);
      return;
    }
    // TLS reads a socket's native handle directly and would miss bytes put back with
    // unshift (a ClientHello sent with the header): it reads through a stream instead.
    finish(new Prepended(socket, rest) as unknown as Socket, client, settings, events, done);
  };
  const onEnd = () => reject('closed before the header');
  const reject = (reason: string) => {
    cleanup();
    events.proxyRejected(reason);
    socket.destroy();
  };
  const cleanup = () => {
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('end', onEnd);
  };
  socket.on('error', ignore);
  socket.on('data', onData);
  socket.on('end', onEnd);
  socket.resume();
}

function finish(
  socket: Socket,
  client: ClientAddress,
  settings: IntakeSettings,
  events: IntakeEvents,
  done: (socket: Socket, client: ClientAddress) => void,
): void {
  const tls = settings.tls;
  if (tls === null) {
    done(socket, client);
    return;
  }
  const started = performance.now();
  const secure = new TLSSocket(socket, {
    isServer: true,
    secureContext: tls.defaultContext,
    SNICallback: tls.sni,
    ...(tls.alpn === undefined ? {} : { ALPNProtocols: tls.alpn }),
    requestCert: false,
    rejectUnauthorized: false,
  });
  secure.once('secure', () => {
    // Client-initiated renegotiation is a denial-of-service lever and has no use here.
    secure.disableRenegotiation();
    events.tlsEstablished((performance.now() - started) / 1000, secure);
  });
  secure.on('error', (err: NodeJS.ErrnoException) => {
    // Before the handshake completes, an error is a handshake failure; after, the frontend's business.
    if (!secure.encrypted || (secure as TLSSocket & { _secureEstablished?: boolean })._secureEstablished !== true) events.tlsFailed(tlsReason(err));
    // Some TLS errors (a refused renegotiation) are reported without closing: a TLS error always ends the connection.
    secure.destroy();
  });
  done(secure, client);
}

/** A short, bounded reason for a failed handshake (metric label values stay few). */
export function tlsReason(err: NodeJS.ErrnoException): string {
  const code = err.code ?? '';
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'client_closed';
  // Plain HTTP (or anything not TLS) on a TLS port: OpenSSL reads it as a bad record.
  if (code === 'ERR_SSL_HTTP_REQUEST' || code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_HTTPS_PROXY_REQUEST') return 'not_tls';
  if (code === 'ERR_SSL_NO_SHARED_CIPHER' || /no.shared.cipher/i.test(err.message)) return 'no_shared_cipher';
  if (code === 'ERR_SSL_UNSUPPORTED_PROTOCOL' || code.includes('VERSION') || /unsupported protocol|version/i.test(err.message)) return 'protocol_version';
  if (code === 'ERR_TLS_HANDSHAKE_TIMEOUT') return 'timeout';
  if (/certificate/i.test(err.message)) return 'certificate';
  return 'other';
}
