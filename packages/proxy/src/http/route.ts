import type { Balancer } from '@rustlb/balancer';
import type { RouteConfig } from '@rustlb/core';
import type { RequestHead } from '@rustlb/http1';
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

  matches(host: string, head: RequestHead): boolean {
    if (this.#exactHost !== null && host !== this.#exactHost) return false;
    if (this.#hostSuffix !== null && !(host.endsWith(this.#hostSuffix) && host.length > this.#hostSuffix.length)) return false;
    if (this.#pathPrefix !== null && !head.path.startsWith(this.#pathPrefix)) return false;
    if (this.#methods !== null && !this.#methods.has(head.method)) return false;
    return true;
  }
}

/** The Host of a request, lower-cased, without its port (IPv6 literals keep their brackets). */
export function routingHost(head: RequestHead): string {
  const host = head.host;
  if (host === null) return '';
  const end = host.charCodeAt(0) === 91 /* [ */ ? host.indexOf(']') + 1 : host.indexOf(':');
  return (end > 0 ? host.slice(0, end) : host).toLowerCase();
}
