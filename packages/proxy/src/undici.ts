import { createRequire } from 'node:module';
import { Socket } from 'node:net';
import type * as Undici from 'undici';

/**
 * The parts of undici the data plane uses, loaded from their own modules: undici's index
 * also loads fetch, WebSocket, caching and more, about 10 MB of memory in every worker
 * for nothing.
 */
const load = createRequire(import.meta.url);

export const Pool: typeof Undici.Pool = load('undici/lib/dispatcher/pool.js');
export const Client: typeof Undici.Client = load('undici/lib/dispatcher/client.js');
export type Pool = Undici.Pool;
export type Client = Undici.Client;

const buildConnector: typeof Undici.buildConnector = load('undici/lib/core/connect.js');
declare const kParserKey: unique symbol;
/** undici's own key for a socket's HTTP/1.1 parser (internal; the version is pinned by the lockfile). */
const kParser: typeof kParserKey = (load('undici/lib/core/symbols.js') as { kParser: typeof kParserKey }).kParser;
const kHeldEnd: unique symbol = Symbol('rustlb.heldEnd');

type UpstreamSocket = Socket & { [kParser]?: { paused: boolean } | null; [kHeldEnd]?: boolean };

const connectors = new Map<number, Undici.buildConnector.connector>();

/**
 * How upstream connections are made: undici's own connector (connect timeout, no-delay,
 * TCP keep-alive), with each socket holding its end back while undici's parser is paused.
 *
 * Why: rustlb pauses the parser whenever a client reads slower than the server sends
 * (backpressure). If the server then closes, and its response ends with the connection
 * (no length, `Connection: close`, HTTP/1.0), undici 7 asserts in the socket's 'end'
 * handler: an uncaught exception that killed the worker and every request on it
 * (nodejs/undici#5360; fixed only in undici 8, which needs Node 22). Holding 'end' until
 * the parser has run again lets it parse the rest of the response first; the end then
 * completes the response as undici intends. One connector per connect timeout.
 */
export function upstreamConnector(connectTimeoutMs: number): Undici.buildConnector.connector {
  let connector = connectors.get(connectTimeoutMs);
  if (connector === undefined) {
    const connect = buildConnector({ timeout: connectTimeoutMs });
    connector = (options, callback) => {
      connect(options, (err, socket) => {
        // On failure undici passes the error alone (no socket argument at all).
        if (err === null && socket) holdEndWhilePaused(socket as UpstreamSocket);
        (callback as (e: Error | null, s: Socket | null) => void)(err, socket);
      });
    };
    connectors.set(connectTimeoutMs, connector);
  }
  return connector;
}

const socketEmit = Socket.prototype.emit;
const socketRead = Socket.prototype.read;

function holdEndWhilePaused(socket: UpstreamSocket): void {
  // Node ends the writable side, then destroys the socket, right after the readable side
  // ends; with 'end' held that would close it under the paused parser (undici asserts in
  // 'close' too). undici destroys the socket itself once its 'end' handler has run.
  socket.allowHalfOpen = true;
  socket.emit = emitUnlessHeld as Socket['emit'];
  socket.read = readThenRelease;
}

function emitUnlessHeld(this: UpstreamSocket, event: string | symbol): boolean {
  if (event === 'end' && this[kParser]?.paused === true) {
    this[kHeldEnd] = true;
    return false;
  }
  // biome-ignore lint/complexity/noArguments: forwards every argument without an array per event
  return Reflect.apply(socketEmit, this, arguments) as boolean;
}

/** The parser reads the socket when it resumes; the held end follows once that is done. */
function readThenRelease(this: UpstreamSocket, size?: number): ReturnType<Socket['read']> {
  if (this[kHeldEnd] === true) process.nextTick(releaseEnd, this);
  return socketRead.call(this, size);
}

function releaseEnd(socket: UpstreamSocket): void {
  // Paused again (the client is still slow): the next resume reads again and retries.
  if (socket[kHeldEnd] !== true || socket.destroyed || socket[kParser]?.paused === true) return;
  socket[kHeldEnd] = false;
  Reflect.apply(socketEmit, socket, ['end']);
}
