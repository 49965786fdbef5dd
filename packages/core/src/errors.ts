/**
 * One closed family of errors with stable codes (the undici / fastify model). Match on
 * `code`, never on the message. `docs/errors.md` lists every code; a test keeps the two
 * in step.
 */

export interface ErrorCodeInfo {
  /** HTTP status a proxied request gets for this error, when it is a request error. */
  readonly status: number | null;
  readonly summary: string;
}

export const ERROR_CODES = {
  RLB_ERR_CONFIG_READ: { status: null, summary: 'the configuration file cannot be read' },
  RLB_ERR_CONFIG_INVALID: { status: null, summary: 'the configuration is invalid' },
  RLB_ERR_BIND: { status: null, summary: 'an address cannot be listened on (in use, not permitted)' },
  RLB_ERR_USAGE: { status: null, summary: 'invalid command-line usage' },
  RLB_ERR_BAD_REQUEST: { status: 400, summary: 'malformed or ambiguous request' },
  RLB_ERR_CLIENT_TIMEOUT: { status: 408, summary: 'the client did not send its request head in time' },
  RLB_ERR_CLIENT_STALLED: { status: 408, summary: 'the client stopped sending its request body or reading the response' },
  RLB_ERR_HEADERS_TOO_LARGE: { status: 431, summary: 'the request head is larger than http.max_header_size' },
  RLB_ERR_HTTP_VERSION: { status: 505, summary: 'the request is not HTTP/1.0 or HTTP/1.1' },
  RLB_ERR_NOT_IMPLEMENTED: { status: 501, summary: 'the method is not supported by the proxy (CONNECT)' },
  RLB_ERR_NO_SERVER: { status: 503, summary: 'no healthy server in the backend' },
  RLB_ERR_UPSTREAM_CONNECT: { status: 502, summary: 'connecting to the upstream server failed' },
  RLB_ERR_UPSTREAM_CONNECT_TIMEOUT: { status: 504, summary: 'connecting to the upstream server timed out' },
  RLB_ERR_UPSTREAM_RESET: { status: 502, summary: 'the upstream server closed or reset the connection' },
  RLB_ERR_UPSTREAM_TIMEOUT: { status: 504, summary: 'the upstream server did not answer in time' },
  RLB_ERR_UPSTREAM_BAD_RESPONSE: { status: 502, summary: 'the upstream response was malformed' },
  RLB_ERR_CLIENT_ABORTED: { status: null, summary: 'the client went away before the response completed' },
  RLB_ERR_CONTROL_REQUEST: { status: null, summary: 'a malformed request on the control socket' },
  RLB_ERR_CONTROL_REFUSED: { status: null, summary: 'the daemon refused a control command' },
  RLB_ERR_NOT_RUNNING: { status: null, summary: 'nothing answers on the control socket' },
  RLB_ERR_INTERNAL: { status: 500, summary: 'an internal error (a bug): please report it' },
} as const satisfies Record<string, ErrorCodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class RustlbError extends Error {
  readonly code: ErrorCode;
  /** Extra facts for logs and control answers (addresses, paths, lists of problems). */
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RustlbError';
    this.code = code;
    this.details = options?.details;
  }

  get status(): number | null {
    return ERROR_CODES[this.code].status;
  }
}

export function isRustlbError(err: unknown): err is RustlbError {
  return err instanceof RustlbError;
}

/** Message of any thrown value, for logs. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
