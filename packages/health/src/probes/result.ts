import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import type { BackendTls, ProxyProtocolVersion } from '@rustlb/core';
/**
 * The outcome of one probe. A failure names the layer and reason, as HAProxy's check
 * status does: `refused`, `timeout`, `reset`, `bad status 503`, `error EHOSTUNREACH`.
 */
export interface ProbeResult {
  readonly ok: boolean;
  readonly reason: string | null;
  readonly durationMs: number;
}

export interface ProbeTarget {
  readonly host: string;
  readonly port: number;
  readonly timeoutMs: number;
  /** The backend speaks TLS: probes do too, with the same verification as the data plane. */
  readonly tls?: BackendTls | null;
  /** The backend's servers expect a PROXY header first: probes send one saying "a connection of the proxy's own" (`connect.ts`). */
  readonly sendProxy?: ProxyProtocolVersion | null;
}

/** node:tls connect options for a probe of a TLS backend (as the workers' connections are made). */
export function tlsOptions(target: ProbeTarget, tls: BackendTls): ConnectionOptions {
  const servername = tls.servername ?? (isIP(target.host) === 0 ? target.host : undefined);
  return {
    host: target.host,
    port: target.port,
    ...(servername === undefined ? {} : { servername }),
    rejectUnauthorized: tls.verify,
    ...(tls.caPem === null ? {} : { ca: tls.caPem }),
    ...(tls.certPem === null || tls.keyPem === null ? {} : { cert: tls.certPem, key: tls.keyPem }),
    minVersion: 'TLSv1.2',
  };
}

export function failureReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'reset';
    case 'ETIMEDOUT':
      return 'timeout';
    default:
      return code === undefined ? `error ${(err as Error | undefined)?.message ?? String(err)}` : `error ${code}`;
  }
}
