import type { IncomingMessage } from 'node:http';
import { connectionTokens, HOP_BY_HOP, lowerName } from './hop-by-hop.js';
import type { HttpState } from './http-state.js';
import type { TemplateVars } from './template.js';

export const VIA = '1.1 rustlb';
const REQUEST_ID = /^[A-Za-z0-9._~:+/=-]{1,200}$/;

/** The client's X-Request-ID when it is sane (1-200 of A-Za-z0-9._~:+/=-), else null. */
export function incomingRequestId(req: IncomingMessage): string | null {
  const id = req.headers['x-request-id'];
  return typeof id === 'string' && REQUEST_ID.test(id) ? id : null;
}

/** A configured X-Request-ID rule wins; else the client's sane id; else a new one. */
export function requestIdOf(state: HttpState, req: IncomingMessage, vars: TemplateVars, ids: { next(): string }): string {
  return state.requestIdRule?.render(vars) ?? incomingRequestId(req) ?? ids.next();
}

export interface RequestHeaderInput {
  readonly req: IncomingMessage;
  readonly state: HttpState;
  readonly vars: TemplateVars;
  readonly requestId: string;
  readonly trustedPeer: boolean;
  /** Keep Upgrade and `Connection: upgrade` (a WebSocket tunnel). */
  readonly upgrade: boolean;
}

/**
 * The header list sent upstream, as a flat [name, value, …] array. In order: hop-by-hop
 * fields and every field the client's Connection header names are dropped, then the
 * proxy's own fields (which a client therefore cannot strip), then the configured rules.
 */
export function requestHeaders(input: RequestHeaderInput): string[] {
  const { req, state } = input;
  const raw = req.rawHeaders;
  const drop = state.dropRequest;
  const named = connectionTokens(req.headers.connection);
  const out: string[] = [];
  let xff = '';
  let via = '';
  let forwardedProto: string | null = null;
  let forwardedHost: string | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    const lower = lowerName(name);
    if (HOP_BY_HOP.has(lower) || named?.has(lower)) continue;
    if (drop.has(lower)) {
      if (lower === 'x-forwarded-for') xff = xff === '' ? value : `${xff}, ${value}`;
      else if (lower === 'via') via = via === '' ? value : `${via}, ${value}`;
      else if (input.trustedPeer && lower === 'x-forwarded-proto') forwardedProto = value;
      else if (input.trustedPeer && lower === 'x-forwarded-host') forwardedHost = value;
      continue;
    }
    out.push(name, value);
  }
  if (input.upgrade) out.push('Connection', 'upgrade', 'Upgrade', req.headers.upgrade ?? '');
  // A configured rule for one of these replaces the proxy's own value.
  const ruled = state.ruledRequest;
  if (!ruled.has('x-forwarded-for')) out.push('X-Forwarded-For', xff === '' ? input.vars.clientIp : `${xff}, ${input.vars.clientIp}`);
  if (!ruled.has('x-forwarded-proto')) out.push('X-Forwarded-Proto', forwardedProto ?? 'http');
  const host = forwardedHost ?? req.headers.host;
  if (host !== undefined && !ruled.has('x-forwarded-host')) out.push('X-Forwarded-Host', host);
  if (!ruled.has('via')) {
    if (state.via) out.push('Via', via === '' ? VIA : `${via}, ${VIA}`);
    else if (via !== '') out.push('Via', via);
  }
  out.push('X-Request-ID', input.requestId);
  const rules = state.requestHeaders;
  for (let i = 0; i < rules.length; i++) {
    const h = rules[i];
    if (h !== undefined) out.push(h.name, h.render(input.vars));
  }
  return out;
}

/**
 * The header list returned to the client from the upstream's raw headers: hop-by-hop
 * fields and those the upstream's Connection header names are dropped; Via, the request
 * id and the configured rules are added.
 */
export function responseHeaders(rawHeaders: readonly Buffer[], state: HttpState, vars: TemplateVars, requestId: string, close: boolean): string[] {
  const n = rawHeaders.length;
  const strs = new Array<string>(n);
  let connection: string | undefined;
  for (let i = 0; i < n; i += 2) {
    const name = (rawHeaders[i] as Buffer).toString('latin1');
    const value = (rawHeaders[i + 1] as Buffer).toString('latin1');
    strs[i] = name;
    strs[i + 1] = value;
    if (name.length === 10 && lowerName(name) === 'connection') connection = connection === undefined ? value : `${connection}, ${value}`;
  }
  return filterResponseHeaders(strs, connection, state, vars, requestId, close, false);
}

/**
 * The same from headers Node has parsed already (`IncomingMessage.rawHeaders`). With
 * `upgrade` (a 101 to a WebSocket handshake) Connection and Upgrade are kept: they are
 * the answer.
 */
export function responseHeadersOf(rawHeaders: readonly string[], state: HttpState, vars: TemplateVars, requestId: string, upgrade: boolean): string[] {
  let connection: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    if (name.length === 10 && lowerName(name) === 'connection')
      connection = connection === undefined ? rawHeaders[i + 1] : `${connection}, ${rawHeaders[i + 1]}`;
  }
  return filterResponseHeaders(rawHeaders, connection, state, vars, requestId, false, upgrade);
}

function filterResponseHeaders(
  strs: readonly string[],
  connection: string | undefined,
  state: HttpState,
  vars: TemplateVars,
  requestId: string,
  close: boolean,
  upgrade: boolean,
): string[] {
  const n = strs.length;
  const named = upgrade ? null : connectionTokens(connection);
  const drop = state.dropResponse;
  const out: string[] = [];
  let via = '';
  for (let i = 0; i < n; i += 2) {
    const name = strs[i] as string;
    const lower = lowerName(name);
    if (upgrade ? lower !== 'connection' && lower !== 'upgrade' && HOP_BY_HOP.has(lower) : HOP_BY_HOP.has(lower) || named?.has(lower)) continue;
    if (drop.has(lower)) {
      if (lower === 'via') via = via === '' ? (strs[i + 1] as string) : `${via}, ${strs[i + 1]}`;
      continue;
    }
    out.push(name, strs[i + 1] as string);
  }
  const ruled = state.ruledResponse;
  if (!ruled.has('via')) {
    if (state.via) out.push('Via', via === '' ? VIA : `${via}, ${VIA}`);
    else if (via !== '') out.push('Via', via);
  }
  if (!ruled.has('x-request-id')) out.push('X-Request-ID', requestId);
  const rules = state.responseHeaders;
  for (let i = 0; i < rules.length; i++) {
    const h = rules[i];
    if (h !== undefined) out.push(h.name, h.render(vars));
  }
  if (close) out.push('Connection', 'close');
  return out;
}
