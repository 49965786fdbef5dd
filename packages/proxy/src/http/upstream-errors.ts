import type { ErrorCode } from '@rustlb/core';

/** What went wrong talking to an upstream server, as far as retry and health care. */
export type UpstreamFailure =
  /** Nothing was sent: another server may be tried. */
  | 'connect-refused'
  | 'connect-timeout'
  /** The connection closed or reset before a response byte arrived (possibly a stale pooled one). */
  | 'reset'
  /** No response head within http.timeouts.response (or the body stalled that long). */
  | 'response-timeout'
  /** The upstream broke HTTP framing. */
  | 'bad-response'
  /** The request could not be forwarded as it was (rustlb's own validation). */
  | 'bad-request'
  /** We aborted it (the client left). */
  | 'aborted';

const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED']);
const RESET_ERRORS = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_DESTROYED', 'UND_ERR_INFO']);

/** Maps an error undici reported (a Node errno, an UND_ERR_* or an HPE_* code) to a failure kind. */
export function classifyUpstreamError(err: unknown): UpstreamFailure {
  const code = (err as { code?: string } | null)?.code ?? '';
  if (CONNECT_ERRORS.has(code)) return 'connect-refused';
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT') return 'connect-timeout';
  if (RESET_ERRORS.has(code)) return 'reset';
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return 'response-timeout';
  if (code === 'UND_ERR_ABORTED') return 'aborted';
  if (code === 'UND_ERR_INVALID_ARG' || code === 'UND_ERR_NOT_SUPPORTED' || code === 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH') return 'bad-request';
  return 'bad-response';
}

/** The coded error rustlb answers with when no other server can be tried. */
export function failureCode(failure: UpstreamFailure): ErrorCode {
  switch (failure) {
    case 'connect-refused':
      return 'RLB_ERR_UPSTREAM_CONNECT';
    case 'connect-timeout':
      return 'RLB_ERR_UPSTREAM_CONNECT_TIMEOUT';
    case 'reset':
      return 'RLB_ERR_UPSTREAM_RESET';
    case 'response-timeout':
      return 'RLB_ERR_UPSTREAM_TIMEOUT';
    case 'bad-request':
      return 'RLB_ERR_BAD_REQUEST';
    case 'aborted':
      return 'RLB_ERR_CLIENT_ABORTED';
    default:
      return 'RLB_ERR_UPSTREAM_BAD_RESPONSE';
  }
}
