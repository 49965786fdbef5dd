import type { Algorithm } from '@rustlb/core';

/**
 * A server as selection sees it. The worker owns these objects and updates the mutable
 * fields in place (health pushes, in-flight counts); algorithms only read them.
 */
export interface Candidate {
  /** `BACKEND/ADDRESS`: stable across workers and reloads, so hashing agrees everywhere. */
  readonly key: string;
  readonly weight: number;
  /** May take new work: healthy, enabled, not in cooldown. */
  available: boolean;
  /** In-flight requests/sessions this process has on the server. */
  localActive: number;
  /** In-flight work of the other workers, as last pushed by the primary. */
  remoteActive: number;
}

/**
 * Chooses a server. `avoid` holds servers that already failed for the request at hand,
 * so a retry never lands on them again. Null: nothing available (the caller answers 503
 * or closes). Implementations are pure: no sockets, no timers, no clocks.
 */
export interface Balancer {
  readonly algorithm: Algorithm;
  pick(clientIp: string, avoid: ReadonlySet<Candidate> | null): Candidate | null;
}

export interface BalancerOptions {
  /**
   * Where this process starts its rotation (the worker's index), so N workers do not
   * send their first requests to the same server in lock-step.
   */
  readonly offset: number;
}

export type BalancerFactory = (servers: readonly Candidate[], options: BalancerOptions) => Balancer;

/** Usable for a new request: available and not already tried. */
export function eligible(c: Candidate, avoid: ReadonlySet<Candidate> | null): boolean {
  return c.available && (avoid === null || !avoid.has(c));
}
