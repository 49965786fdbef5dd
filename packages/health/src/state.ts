import type { HealthCheckSettings } from '@rustlb/core';

/**
 * The health of one server: a pure state machine (no I/O, no timers, time passed in).
 *
 * Timeline, with unhealthy_threshold 3, healthy_threshold 2, cooldown 30s:
 *
 *   t0   starts healthy (optimistic: traffic flows at once, the first probe follows)
 *   ...  failures (active probe or passive report) count; any success resets the count
 *   t1   3rd consecutive failure  → unhealthy; no new traffic from now on
 *   ...  probes go on; a failure resets the success count
 *   t2   2nd consecutive success  → healthy again only if t2 ≥ t1 + 30s (cooldown);
 *        if t2 is earlier, it becomes healthy at t1 + 30s unless a probe fails first
 *
 * Passive reports from workers only ever push a healthy server towards unhealthy (or
 * reset its failure count with a success); an unhealthy server's return is decided by
 * active probes alone, since it gets no traffic to observe.
 */
export interface ServerHealth {
  readonly healthy: boolean;
  readonly failures: number;
  readonly successes: number;
  /** When the server last went unhealthy (ms), for the cooldown. */
  readonly downSince: number | null;
  /** Why the last failure happened (for status and logs). */
  readonly lastError: string | null;
}

export type Transition = 'up' | 'down' | null;

export interface Observation {
  readonly state: ServerHealth;
  readonly transition: Transition;
}

type Thresholds = Pick<HealthCheckSettings, 'unhealthyThreshold' | 'healthyThreshold' | 'cooldownMs'>;

export const INITIAL_HEALTH: ServerHealth = { healthy: true, failures: 0, successes: 0, downSince: null, lastError: null };

function maybeUp(s: ServerHealth, now: number, t: Thresholds): Observation {
  if (!s.healthy && s.successes >= t.healthyThreshold && s.downSince !== null && now >= s.downSince + t.cooldownMs) {
    return { state: { ...s, healthy: true, failures: 0, successes: 0, downSince: null }, transition: 'up' };
  }
  return { state: s, transition: null };
}

/** An active probe result. */
export function observeProbe(s: ServerHealth, ok: boolean, error: string | null, now: number, t: Thresholds): Observation {
  if (s.healthy) {
    if (ok) return { state: s.failures === 0 ? s : { ...s, failures: 0 }, transition: null };
    return fail(s, 1, error, now, t);
  }
  if (!ok) return { state: { ...s, successes: 0, lastError: error }, transition: null };
  return maybeUp({ ...s, successes: s.successes + 1 }, now, t);
}

/** Failures and successes a worker saw on real traffic. */
export function observePassive(s: ServerHealth, failures: number, successes: number, error: string | null, now: number, t: Thresholds): Observation {
  if (!s.healthy) return { state: s, transition: null };
  // Within one batch the order is unknown: a success means the failures were not consecutive.
  if (successes > 0) return { state: s.failures === 0 ? s : { ...s, failures: 0 }, transition: null };
  if (failures > 0) return fail(s, failures, error, now, t);
  return { state: s, transition: null };
}

/** Time passed: a server whose cooldown has ended may come back. */
export function tick(s: ServerHealth, now: number, t: Thresholds): Observation {
  return maybeUp(s, now, t);
}

function fail(s: ServerHealth, count: number, error: string | null, now: number, t: Thresholds): Observation {
  const failures = s.failures + count;
  if (failures >= t.unhealthyThreshold) {
    return { state: { healthy: false, failures: 0, successes: 0, downSince: now, lastError: error }, transition: 'down' };
  }
  return { state: { ...s, failures, lastError: error }, transition: null };
}

/** When `tick` could next change something (end of cooldown), or null. */
export function nextDeadline(s: ServerHealth, t: Thresholds): number | null {
  return !s.healthy && s.downSince !== null && s.successes >= t.healthyThreshold ? s.downSince + t.cooldownMs : null;
}
