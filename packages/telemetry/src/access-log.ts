import type { Logger } from 'pino';

/** The fields of one HTTP access line (SPEC §6). */
export interface HttpAccess {
  readonly requestId: string;
  readonly frontend: string;
  readonly backend: string;
  readonly server: string;
  readonly clientIp: string;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly durationMs: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** Set when rustlb, not the server, produced the status (an error code). */
  readonly error?: string;
  /** The client connection's TLS protocol version and cipher, on a TLS frontend. */
  readonly tlsVersion?: string;
  readonly tlsCipher?: string;
}

/** The fields of one TCP session line. */
export interface TcpAccess {
  readonly frontend: string;
  readonly backend: string;
  readonly server: string;
  readonly clientIp: string;
  readonly durationMs: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly error?: string;
}

export function logHttpAccess(logger: Logger, entry: HttpAccess): void {
  logger.info(entry, 'http request');
}

export function logTcpAccess(logger: Logger, entry: TcpAccess): void {
  logger.info(entry, 'tcp session');
}
