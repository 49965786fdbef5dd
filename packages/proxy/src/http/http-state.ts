import type { BlockList } from 'node:net';
import { cidrBlockList, type FrontendConfig } from '@rustlb/core';
import type { HeadLimits, RequestHead } from '@rustlb/http1';
import type { WorkerMetrics } from '@rustlb/telemetry';
import type { ProxyTables } from '../tables.js';
import { CompiledRoute, type RouteTarget, routingHost } from './route.js';
import { type CompiledHeader, compileHeaders } from './template.js';
import type { PoolSettings } from './upstream-pool.js';

/** Headers rustlb writes itself on requests: a client copy is dropped first, then ours is added. */
const OWN_REQUEST_HEADERS = ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-request-id', 'via', 'expect', 'http2-settings'];
const OWN_RESPONSE_HEADERS = ['via', 'x-request-id'];
/**
 * Look-alikes of the framing fields: servers that map `-` and `_` to the same name (CGI,
 * WSGI, some frameworks) would read them as Content-Length / Transfer-Encoding, a
 * smuggling vector (Envoy and nginx refuse or drop them too). Never forwarded.
 */
const FRAMING_LOOKALIKES = ['content_length', 'transfer_encoding'];

/**
 * One HTTP frontend compiled for one configuration generation: routes resolved to
 * backends and balancers, header rules compiled, metric children bound. Requests take
 * the state that is current when they arrive and keep it to the end.
 */
export class HttpState {
  readonly frontend: FrontendConfig;
  readonly tables: ProxyTables;
  readonly fallback: RouteTarget;
  readonly routes: readonly CompiledRoute[];
  readonly requestHeaders: readonly CompiledHeader[];
  readonly responseHeaders: readonly CompiledHeader[];
  /** Lower-case names never copied from the client request. */
  readonly dropRequest: ReadonlySet<string>;
  /** Lower-case names never copied from the upstream response. */
  readonly dropResponse: ReadonlySet<string>;
  /** Lower-case names the configured request rules set. */
  readonly ruledRequest: ReadonlySet<string>;
  /** Lower-case names the configured response rules set. */
  readonly ruledResponse: ReadonlySet<string>;
  /** A configured X-Request-ID rule: its value is the request id. */
  readonly requestIdRule: CompiledHeader | null;
  readonly trusted: BlockList | null;
  readonly pool: PoolSettings;
  readonly via: boolean;
  /** Add `X-Real-IP` (http.x_real_ip, and no request rule sets it); a client's copy is then dropped. */
  readonly xRealIp: boolean;
  /** Add `X-Served-By` (http.served_by, and no response rule sets it); a server's copy is then dropped. */
  readonly servedBy: boolean;
  readonly responseTimeoutMs: number;
  /** Request head limits: http.max_header_size for the whole head. */
  readonly limits: HeadLimits;
  /** The frontend was removed by a reload: answer with `Connection: close` from now on. */
  closing = false;
  /** Any header rule uses $backend_*: the header list depends on the server picked. */
  readonly perServerHeaders: boolean;

  constructor(frontend: FrontendConfig, tables: ProxyTables, metrics: WorkerMetrics) {
    this.frontend = frontend;
    this.tables = tables;
    const targets = new Map<string, RouteTarget>();
    const target = (backend: string, algorithm = frontend.algorithm): RouteTarget => {
      const id = `${backend}\n${algorithm}`;
      let t = targets.get(id);
      if (t === undefined) {
        const table = tables.backends.get(backend);
        // Validation guarantees the backend exists.
        if (table === undefined) throw new Error(`no backend ${backend}`);
        t = { backend: table, balancer: table.balancer(algorithm), metrics: metrics.target(frontend.name, backend) };
        targets.set(id, t);
      }
      return t;
    };
    this.fallback = target(frontend.backend);
    this.routes = frontend.routes.map((r) => new CompiledRoute(r, target(r.backend, r.algorithm ?? frontend.algorithm)));
    const http = frontend.http;
    const rules = compileHeaders(http.requestHeaders);
    this.ruledRequest = new Set(rules.map((h) => h.lower));
    this.requestIdRule = rules.find((h) => h.lower === 'x-request-id') ?? null;
    this.requestHeaders = rules.filter((h) => h.lower !== 'x-request-id');
    this.responseHeaders = compileHeaders(http.responseHeaders);
    this.ruledResponse = new Set(this.responseHeaders.map((h) => h.lower));
    // A rule or a removal of the name takes it over.
    this.xRealIp = http.xRealIp && !this.ruledRequest.has('x-real-ip') && !http.removeRequestHeaders.includes('x-real-ip');
    this.servedBy = http.servedBy && !this.ruledResponse.has('x-served-by') && !http.removeResponseHeaders.includes('x-served-by');
    this.dropRequest = new Set([
      ...OWN_REQUEST_HEADERS,
      ...(this.xRealIp ? ['x-real-ip'] : []),
      ...FRAMING_LOOKALIKES,
      ...http.removeRequestHeaders,
      ...rules.map((h) => h.lower),
    ]);
    this.dropResponse = new Set([
      ...OWN_RESPONSE_HEADERS,
      ...(this.servedBy ? ['x-served-by'] : []),
      ...http.removeResponseHeaders,
      ...this.responseHeaders.map((h) => h.lower),
    ]);
    this.trusted = http.trustedProxies.length === 0 ? null : cidrBlockList(http.trustedProxies);
    this.pool = {
      connectMs: http.timeouts.connectMs,
      upstreamIdleMs: http.timeouts.upstreamIdleMs,
      id: `${http.timeouts.connectMs}/${http.timeouts.upstreamIdleMs}`,
    };
    this.via = http.via;
    this.responseTimeoutMs = http.timeouts.responseMs;
    this.limits = { maxHeadBytes: http.maxHeaderSize, maxHeaders: 512 };
    this.perServerHeaders = [...http.requestHeaders, ...http.responseHeaders].some((h) => h.value.includes('$backend_'));
  }

  route(head: RequestHead): RouteTarget {
    const routes = this.routes;
    if (routes.length === 0) return this.fallback;
    const host = routingHost(head);
    for (let i = 0; i < routes.length; i++) {
      const r = routes[i] as CompiledRoute;
      if (r.matches(host, head)) return r.target;
    }
    return this.fallback;
  }

  isTrusted(ip: string): boolean {
    return this.trusted?.check(ip, ip.includes(':') ? 'ipv6' : 'ipv4') === true;
  }
}
