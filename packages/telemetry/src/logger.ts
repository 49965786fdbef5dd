import { createRequire } from 'node:module';
import type { LogFormat, LogLevel } from '@rustlb/core';
import { type DestinationStream, type Logger, pino } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions {
  readonly level: LogLevel;
  readonly format: LogFormat;
  /** Fields on every line (e.g. `{ role: 'worker', worker: 2 }`). */
  readonly base?: Record<string, unknown>;
}

export interface LogSink {
  readonly logger: Logger;
  /**
   * Writes out what is buffered, at once. For crash paths: a write the thread pool is
   * still doing at that moment can be cut off by the exit; prefer {@link LogSink.flush}.
   */
  flushSync(): void;
  /** Waits for the write in progress (bounded by `timeoutMs`), then writes out the rest: call before a planned exit. */
  flush(timeoutMs?: number): Promise<void>;
}

let lastMs = 0;
let lastTime = '';

/**
 * pino's ISO time, formatted once per millisecond: under load many lines share one,
 * and `toISOString` per line was a visible part of an access line's cost.
 */
function isoTime(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastTime = `,"time":"${new Date(now).toISOString()}"`;
  }
  return lastTime;
}

/** The parts of pino's SonicBoom destination `flush` needs (`_writing`: an asynchronous write is in progress). */
type Destination = DestinationStream & {
  flushSync(): void;
  readonly _writing?: boolean;
  once(event: 'write', cb: () => void): unknown;
  off(event: 'write', cb: () => void): unknown;
};

/**
 * One JSON object a line on stdout through pino's asynchronous destination (a slow
 * stdout does not stall the event loop; lines written right before exit are flushed by
 * `flushSync`), or human-readable lines with `pretty`.
 */
export function createLogger(options: LoggerOptions): LogSink {
  const pinoOptions = {
    level: options.level,
    base: { pid: process.pid, ...options.base },
    timestamp: isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  if (options.format === 'pretty') {
    // Loaded only when asked for: it weighs about 10 MB in every process otherwise.
    const PinoPretty = createRequire(import.meta.url)('pino-pretty') as (o: object) => DestinationStream;
    const stream = PinoPretty({ colorize: process.stdout.isTTY === true, translateTime: 'SYS:standard', ignore: 'pid,hostname', sync: true });
    return { logger: pino(pinoOptions, stream), flushSync: () => {}, flush: () => Promise.resolve() };
  }
  // Whole lines, at most PIPE_BUF bytes a write: lines of several processes sharing one
  // pipe never interleave. (Under load the asynchronous destination batches by itself:
  // lines written while a write is in progress go out together with the next one.)
  const destination = pino.destination({ dest: 1, sync: false, maxWrite: 4096 }) as Destination;
  const logger = pino(pinoOptions, destination);
  const flushSync = () => {
    try {
      destination.flushSync();
    } catch {
      // Not ready yet (nothing written) or stdout gone: nothing to flush.
    }
  };
  const flush = async (timeoutMs = 2000) => {
    const deadline = Date.now() + timeoutMs;
    // Each finished write starts the next buffered one: wait until none is in progress.
    while (destination._writing === true && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          destination.off('write', done);
          resolve();
        };
        const timer = setTimeout(done, Math.max(1, deadline - Date.now()));
        destination.once('write', done);
      });
    }
    flushSync();
  };
  return { logger, flushSync, flush };
}
