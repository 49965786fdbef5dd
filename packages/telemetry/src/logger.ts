import type { LogFormat, LogLevel } from '@rustlb/core';
import { type DestinationStream, type Logger, pino } from 'pino';
import PinoPretty from 'pino-pretty';

export type { Logger } from 'pino';

export interface LoggerOptions {
  readonly level: LogLevel;
  readonly format: LogFormat;
  /** Fields on every line (e.g. `{ role: 'worker', worker: 2 }`). */
  readonly base?: Record<string, unknown>;
}

export interface LogSink {
  readonly logger: Logger;
  /** Writes out what is buffered; call before the process exits. */
  flushSync(): void;
}

/**
 * One JSON object a line on stdout through pino's asynchronous destination (a slow
 * stdout does not stall the event loop; lines written right before exit are flushed by
 * `flushSync`), or human-readable lines with `pretty`.
 */
export function createLogger(options: LoggerOptions): LogSink {
  const pinoOptions = {
    level: options.level,
    base: { pid: process.pid, ...options.base },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  if (options.format === 'pretty') {
    const stream = PinoPretty({ colorize: process.stdout.isTTY === true, translateTime: 'SYS:standard', ignore: 'pid,hostname', sync: true });
    return { logger: pino(pinoOptions, stream as DestinationStream), flushSync: () => {} };
  }
  // Whole lines, at most PIPE_BUF bytes a write: lines of several processes sharing one pipe never interleave.
  const destination = pino.destination({ dest: 1, sync: false, maxWrite: 4096 });
  const logger = pino(pinoOptions, destination);
  return {
    logger,
    flushSync: () => {
      try {
        destination.flushSync();
      } catch {
        // Not ready yet (nothing written) or stdout gone: nothing to flush.
      }
    },
  };
}
