/**
 * Why the codec refused a message. Each code maps to the status a proxy answers a
 * refused *request* with; a refused *response* is always the proxy's 502.
 */
export const H1_ERRORS = {
  H1_BAD_REQUEST_LINE: 400,
  H1_BAD_METHOD: 400,
  H1_BAD_TARGET: 400,
  H1_FRAGMENT: 400,
  H1_ASTERISK_NOT_OPTIONS: 400,
  H1_BAD_VERSION: 400,
  H1_VERSION_NOT_SUPPORTED: 505,
  H1_CONNECT: 501,
  H1_BAD_STATUS_LINE: 502,
  H1_BAD_LINE_ENDING: 400,
  H1_BAD_HEADER_NAME: 400,
  H1_BAD_HEADER_VALUE: 400,
  H1_OBS_FOLD: 400,
  H1_HEAD_TOO_LARGE: 431,
  H1_TOO_MANY_HEADERS: 431,
  H1_BAD_CONTENT_LENGTH: 400,
  H1_BAD_TRANSFER_ENCODING: 400,
  H1_CL_AND_TE: 400,
  H1_TE_IN_HTTP10: 400,
  H1_MISSING_HOST: 400,
  H1_MULTIPLE_HOST: 400,
  H1_BAD_HOST: 400,
  H1_HOST_MISMATCH: 400,
  H1_BAD_CHUNK_SIZE: 400,
  H1_BAD_CHUNK_EXTENSION: 400,
  H1_BAD_CHUNK_DATA_END: 400,
  H1_BAD_TRAILER: 400,
  H1_CHUNK_LIMIT: 400,
} as const;

export type H1Code = keyof typeof H1_ERRORS;

export function h1Status(code: H1Code): number {
  return H1_ERRORS[code];
}
