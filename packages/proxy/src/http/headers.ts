import { HOP_BY_HOP, type RequestHead, type ResponseHead } from '@rustlb/http1';
import type { HttpState } from './http-state.js';
import type { TemplateVars } from './template.js';

export const VIA = '1.1 rustlb';
const REQUEST_ID = /^[A-Za-z0-9._~:+/=-]{1,200}$/;

/** The client's X-Request-ID when it is sane (1-200 of A-Za-z0-9._~:+/=-), else null. */
export function incomingRequestId(head: RequestHead): string | null {
  const id = head.get('x-request-id');
  return id !== undefined && REQUEST_ID.test(id) ? id : null;
}

/** A configured X-Request-ID rule wins; else the client's sane id; else a new one. */
export function requestIdOf(state: HttpState, head: RequestHead, vars: TemplateVars, ids: { next(): string }): string {
  return state.requestIdRule?.render(vars) ?? incomingRequestId(head) ?? ids.next();
}

/** How the request body goes upstream. */
export type RequestFraming = 'none' | 'length' | 'chunked';

export interface RequestHeadInput {
  readonly head: RequestHead;
  readonly state: HttpState;
  readonly vars: TemplateVars;
  readonly requestId: string;
  readonly trustedPeer: boolean;
  /** Keep Upgrade and `Connection: upgrade` (a WebSocket tunnel). */
  readonly upgrade: boolean;
  /** For a request without Host (HTTP/1.0): the server's address. */
  readonly defaultHost: string;
  /** The client connection is TLS: X-Forwarded-Proto says https. */
  readonly secure: boolean;
}

function named(tokens: readonly string[] | null, lower: string): boolean {
  return tokens?.includes(lower) === true;
}

/**
 * The request head sent upstream, as one latin1 string. In order: hop-by-hop fields and
 * every field the client's Connection header names are dropped, then the proxy's own
 * fields (which a client therefore cannot strip), then the configured rules, then the
 * framing. The raw fields are copied as they came; only what changes is rebuilt.
 */
export function upstreamRequestHead(input: RequestHeadInput): string {
  const { head, state } = input;
  const names = head.names;
  const lower = head.lower;
  const values = head.values;
  const tokens = head.connectionTokens;
  const drop = state.dropRequest;
  let out = `${head.method} ${head.path} HTTP/1.1\r\n`;
  let xff = '';
  let via = '';
  let forwardedProto: string | null = null;
  let forwardedHost: string | null = null;
  for (let i = 0; i < names.length; i++) {
    const l = lower[i] as string;
    if (HOP_BY_HOP.has(l) || named(tokens, l)) continue;
    if (drop.has(l)) {
      const value = values[i] as string;
      if (l === 'x-forwarded-for') xff = xff === '' ? value : `${xff}, ${value}`;
      else if (l === 'via') via = via === '' ? value : `${via}, ${value}`;
      else if (input.trustedPeer && l === 'x-forwarded-proto') forwardedProto = value;
      else if (input.trustedPeer && l === 'x-forwarded-host') forwardedHost = value;
      continue;
    }
    out += `${names[i]}: ${values[i]}\r\n`;
  }
  if (head.host === null) out += `Host: ${input.defaultHost}\r\n`;
  if (input.upgrade) out += `Connection: upgrade\r\nUpgrade: ${head.upgrade ?? ''}\r\n`;
  // A configured rule for one of these replaces the proxy's own value.
  const ruled = state.ruledRequest;
  const clientIp = input.vars.clientIp;
  if (!ruled.has('x-forwarded-for')) out += `X-Forwarded-For: ${xff === '' ? clientIp : `${xff}, ${clientIp}`}\r\n`;
  if (!ruled.has('x-forwarded-proto')) out += `X-Forwarded-Proto: ${forwardedProto ?? (input.secure ? 'https' : 'http')}\r\n`;
  const host = forwardedHost ?? head.host;
  if (host !== null && !ruled.has('x-forwarded-host')) out += `X-Forwarded-Host: ${host}\r\n`;
  if (!ruled.has('via')) {
    if (state.via) out += `Via: ${via === '' ? VIA : `${via}, ${VIA}`}\r\n`;
    else if (via !== '') out += `Via: ${via}\r\n`;
  }
  // The original's X-Real-IP, unless switched off or set by a rule.
  if (state.xRealIp) out += `X-Real-IP: ${clientIp}\r\n`;
  out += `X-Request-ID: ${input.requestId}\r\n`;
  const rules = state.requestHeaders;
  for (let i = 0; i < rules.length; i++) {
    const h = rules[i];
    if (h !== undefined) out += `${h.name}: ${h.render(input.vars)}\r\n`;
  }
  // Content-Length is an end-to-end field and was copied; chunked is re-framed by rustlb.
  if (head.bodyKind === 'chunked') out += 'Transfer-Encoding: chunked\r\n';
  return `${out}\r\n`;
}

/** How the response body goes to the client. */
export enum ClientFraming {
  /** No body, or the upstream's Content-Length (copied). */
  AsIs = 0,
  /** Re-framed as chunked (HTTP/1.1 client, no length known). */
  Chunked = 1,
  /** Raw until the connection closes (HTTP/1.0 client, no length known). */
  UntilClose = 2,
}

/**
 * The response head for the client: hop-by-hop fields and those the upstream's
 * Connection header names are dropped; Via, the request id, the configured rules and the
 * client-side framing and Connection are added. With `upgrade` (a 101 to a WebSocket
 * handshake) Connection and Upgrade are the answer and kept.
 */
export function clientResponseHead(
  head: ResponseHead,
  state: HttpState,
  vars: TemplateVars,
  requestId: string,
  framing: ClientFraming,
  connection: 'close' | 'keep-alive' | null,
  upgrade: boolean,
): string {
  const names = head.names;
  const lower = head.lower;
  const values = head.values;
  const tokens = upgrade ? null : head.connectionTokens;
  const drop = state.dropResponse;
  let out = `HTTP/1.1 ${head.status} ${head.reason}\r\n`;
  let via = '';
  for (let i = 0; i < names.length; i++) {
    const l = lower[i] as string;
    if (HOP_BY_HOP.has(l) || named(tokens, l)) continue;
    if (drop.has(l)) {
      if (l === 'via') via = via === '' ? (values[i] as string) : `${via}, ${values[i]}`;
      continue;
    }
    out += `${names[i]}: ${values[i]}\r\n`;
  }
  if (upgrade) out += `Connection: Upgrade\r\nUpgrade: ${head.upgrade ?? ''}\r\n`;
  const ruled = state.ruledResponse;
  if (!ruled.has('via')) {
    if (state.via) out += `Via: ${via === '' ? VIA : `${via}, ${VIA}`}\r\n`;
    else if (via !== '') out += `Via: ${via}\r\n`;
  }
  if (!ruled.has('x-request-id')) out += `X-Request-ID: ${requestId}\r\n`;
  // The original's X-Served-By: BACKEND:ADDRESS, unless switched off or set by a rule.
  if (state.servedBy) out += `X-Served-By: ${vars.backendName}:${vars.backendAddr}\r\n`;
  const rules = state.responseHeaders;
  for (let i = 0; i < rules.length; i++) {
    const h = rules[i];
    if (h !== undefined) out += `${h.name}: ${h.render(vars)}\r\n`;
  }
  if (framing === ClientFraming.Chunked) out += 'Transfer-Encoding: chunked\r\n';
  if (connection !== null) out += connection === 'close' ? 'Connection: close\r\n' : 'Connection: keep-alive\r\n';
  return `${out}\r\n`;
}
