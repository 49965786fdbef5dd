import { ERROR_CODES, type ErrorCode } from '@rustlb/core';

/** Short texts for the answers rustlb makes itself. */
const TEXT: Partial<Record<ErrorCode, string>> = {
  RLB_ERR_NO_SERVER: 'no healthy server',
  RLB_ERR_UPSTREAM_CONNECT: 'upstream connect failed',
  RLB_ERR_UPSTREAM_CONNECT_TIMEOUT: 'upstream connect timed out',
  RLB_ERR_UPSTREAM_RESET: 'upstream connection reset',
  RLB_ERR_UPSTREAM_TIMEOUT: 'upstream timed out',
  RLB_ERR_UPSTREAM_BAD_RESPONSE: 'bad upstream response',
  RLB_ERR_BAD_REQUEST: 'bad request',
  RLB_ERR_CLIENT_TIMEOUT: 'request header timeout',
  RLB_ERR_HEADERS_TOO_LARGE: 'request header fields too large',
  RLB_ERR_HTTP_VERSION: 'HTTP version not supported',
  RLB_ERR_NOT_IMPLEMENTED: 'method not supported by the proxy',
  RLB_ERR_INTERNAL: 'internal error',
};

export function statusOf(code: ErrorCode): number {
  return ERROR_CODES[code].status ?? 500;
}

/** Body of an error answer: what happened and the request id, one line each. */
export function errorBody(code: ErrorCode, requestId: string | null, detail: string | null): string {
  const text = TEXT[code] ?? ERROR_CODES[code].summary;
  return `${text}${detail === null ? '' : `: ${detail}`}\n${requestId === null ? '' : `request id: ${requestId}\n`}`;
}

/** Reason phrases of the statuses rustlb answers with itself. */
export const REASONS: Readonly<Record<number, string>> = {
  200: 'OK',
  400: 'Bad Request',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
};

/** A complete HTTP/1.1 error answer of rustlb's own: a one-line text body and the request id. */
export function errorResponse(code: ErrorCode, requestId: string | null, detail: string | null, close: boolean): string {
  const status = statusOf(code);
  const body = errorBody(code, requestId, detail);
  const id = requestId === null ? '' : `X-Request-ID: ${requestId}\r\n`;
  return `HTTP/1.1 ${status} ${REASONS[status] ?? ''}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${id}${close ? 'Connection: close\r\n' : ''}\r\n${body}`;
}
