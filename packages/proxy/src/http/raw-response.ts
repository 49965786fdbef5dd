import { EventEmitter } from 'node:events';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * A response written straight onto a socket Node has handed over (an Upgrade request
 * that is served without upgrading, e.g. `Upgrade: h2c`). It speaks the small part of
 * ServerResponse that an exchange uses, and always closes the connection afterwards,
 * since Node's parser no longer follows this connection.
 */
export class RawResponse extends EventEmitter {
  readonly #socket: Duplex;
  readonly #head: boolean;
  headersSent = false;

  constructor(socket: Duplex, isHead: boolean) {
    super();
    this.#socket = socket;
    this.#head = isHead;
    socket.on('close', () => this.emit('close'));
    socket.on('drain', () => this.emit('drain'));
  }

  get destroyed(): boolean {
    return this.#socket.destroyed;
  }

  get writableFinished(): boolean {
    return this.#socket.writableFinished;
  }

  writeHead(status: number, text?: string | Record<string, string | number> | string[], headers?: string[] | Record<string, string | number>): this {
    let list = headers;
    let reason = STATUS_CODES[status] ?? '';
    if (typeof text === 'string') reason = text;
    else list = text;
    let head = `HTTP/1.1 ${status} ${reason}\r\n`;
    const pairs: [string, string][] = Array.isArray(list)
      ? Array.from({ length: list.length / 2 }, (_, i) => [list[2 * i] as string, list[2 * i + 1] as string])
      : Object.entries(list ?? {}).map(([k, v]) => [k, String(v)]);
    for (const [k, v] of pairs) if (k.toLowerCase() !== 'connection') head += `${k}: ${v}\r\n`;
    // Without a length the body runs until the connection closes, which it does.
    head += 'Connection: close\r\n\r\n';
    this.headersSent = true;
    this.#socket.write(head);
    return this;
  }

  write(chunk: Buffer): boolean {
    return this.#head ? true : this.#socket.write(chunk);
  }

  end(chunk?: string | Buffer): this {
    if (chunk !== undefined && !this.#head) this.#socket.end(chunk);
    else this.#socket.end();
    return this;
  }

  destroy(): this {
    this.#socket.destroy();
    return this;
  }
}
