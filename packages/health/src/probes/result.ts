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
