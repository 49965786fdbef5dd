import type { ErrorCode } from '@rustlb/core';

/** What went wrong talking to an upstream server, as far as retry and health care. */
export type UpstreamFailure =
  /** Nothing was sent: another server may be tried. */
  | 'connect-refused'
  | 'connect-timeout'
  /** The TLS handshake with the server failed (its certificate did not verify, no common protocol): nothing was sent. */
  | 'tls'
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

/** The coded error rustlb answers with when no other server can be tried. */
export function failureCode(failure: UpstreamFailure): ErrorCode {
  switch (failure) {
    case 'connect-refused':
    case 'tls':
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
