import type { IncomingMessage } from 'node:http';
import type { Balancer } from '@rustlb/balancer';
import type { RouteConfig } from '@rustlb/core';
import type { MetricsTarget } from '@rustlb/telemetry';
import type { BackendTable } from '../tables.js';

/** Where a request goes: a backend, the balancer to use on it, and the metrics to count it in. */
export interface RouteTarget {
  readonly backend: BackendTable;
  readonly balancer: Balancer;
  readonly metrics: MetricsTarget;
}

/** A route with its matchers prepared once at config time. */
export class CompiledRoute {
  readonly #exactHost: string | null;
  /** `.example.com` for `*.example.com`. */
  readonly #hostSuffix: string | null;
  readonly #pathPrefix: string | null;
  readonly #methods: ReadonlySet<string> | null;
  readonly target: RouteTarget;

  constructor(route: RouteConfig, target: RouteTarget) {
    const host = route.host;
    this.#exactHost = host !== null && !host.startsWith('*.') ? host : null;
    this.#hostSuffix = host?.startsWith('*.') ? host.slice(1) : null;
    this.#pathPrefix = route.pathPrefix;
    this.#methods = route.methods === null ? null : new Set(route.methods);
    this.target = target;
  }

  matches(host: string, req: IncomingMessage): boolean {
    if (this.#exactHost !== null && host !== this.#exactHost) return false;
    if (this.#hostSuffix !== null && !(host.endsWith(this.#hostSuffix) && host.length > this.#hostSuffix.length)) return false;
    if (this.#pathPrefix !== null && !requestPath(req).startsWith(this.#pathPrefix)) return false;
    if (this.#methods !== null && !this.#methods.has(req.method ?? '')) return false;
    return true;
  }
}

/** The Host of a request, lower-cased, without its port (IPv6 literals keep their brackets). */
export function routingHost(req: IncomingMessage): string {
  const host = req.headers.host;
  if (host === undefined) return '';
  const end = host.charCodeAt(0) === 91 /* [ */ ? host.indexOf(']') + 1 : host.indexOf(':');
  return (end > 0 ? host.slice(0, end) : host).toLowerCase();
}

/**
 * The path of a request's target as the backend will see it: an absolute-form target
 * (`GET http://x.test/admin`) is sent, and matches routes, as its origin form.
 */
export function requestPath(req: IncomingMessage): string {
  const url = req.url ?? '';
  return url.charCodeAt(0) === 47 /* / */ || url === '*' ? url : originForm(url);
}

/** `http://host/x?y` → `/x?y` (RFC 9112 §3.2.2: the authority already became the Host). */
function originForm(url: string): string {
  const afterScheme = url.indexOf('//') + 2;
  const slash = url.indexOf('/', afterScheme);
  const query = url.indexOf('?', afterScheme);
  if (slash < 0) return query < 0 ? '/' : `/${url.slice(query)}`;
  return query >= 0 && query < slash ? `/${url.slice(query)}` : url.slice(slash);
}
