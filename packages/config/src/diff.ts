import { isDeepStrictEqual } from 'node:util';
import type { BackendConfig, FrontendConfig, GlobalConfig, ResolvedConfig } from '@rustlb/core';

export interface ConfigDiff {
  readonly addedFrontends: readonly string[];
  readonly removedFrontends: readonly string[];
  /** Same name, different settings (a changed `listen` included: it is rebound). */
  readonly changedFrontends: readonly string[];
  readonly addedBackends: readonly string[];
  readonly removedBackends: readonly string[];
  readonly changedBackends: readonly string[];
  /** Settings that only take effect after a restart (reported, not applied). */
  readonly needsRestart: readonly string[];
  /** Global settings that changed and apply live. */
  readonly changedGlobals: readonly string[];
}

function byName<T extends { name: string }>(list: readonly T[]): Map<string, T> {
  return new Map(list.map((x) => [x.name, x]));
}

function compare<T extends { name: string }>(a: readonly T[], b: readonly T[]) {
  const old = byName(a);
  const now = byName(b);
  return {
    added: [...now.keys()].filter((k) => !old.has(k)),
    removed: [...old.keys()].filter((k) => !now.has(k)),
    changed: [...now.keys()].filter((k) => old.has(k) && !isDeepStrictEqual(old.get(k), now.get(k))),
  };
}

/** Each global setting under the name the operator wrote in the file. */
const FILE_KEYS: Readonly<Record<keyof GlobalConfig, string>> = {
  logLevel: 'global.log_level',
  logFormat: 'global.log_format',
  metrics: 'global.metrics',
  workers: 'global.workers',
  shutdownDelayMs: 'global.shutdown_delay',
  shutdownTimeoutMs: 'global.shutdown_timeout',
  adminSocket: 'global.admin.socket',
  statusPage: 'global.admin.status',
  accessLog: 'global.access_log',
  resolvers: 'global.resolvers',
};

const RESTART_ONLY: ReadonlySet<keyof GlobalConfig> = new Set(['workers', 'adminSocket', 'metrics', 'logFormat']);

/** What a reload from `a` to `b` changes; used for the reload log line and `rustlb-ctl reload`. */
export function diffConfig(a: ResolvedConfig, b: ResolvedConfig): ConfigDiff {
  const f = compare<FrontendConfig>(a.frontends, b.frontends);
  const be = compare<BackendConfig>(a.backends, b.backends);
  const needsRestart: string[] = [];
  const changedGlobals: string[] = [];
  for (const key of Object.keys(FILE_KEYS) as (keyof GlobalConfig)[]) {
    if (isDeepStrictEqual(a.global[key], b.global[key])) continue;
    (RESTART_ONLY.has(key) ? needsRestart : changedGlobals).push(FILE_KEYS[key]);
  }
  if (!isDeepStrictEqual(a.healthCheckDefaults, b.healthCheckDefaults)) changedGlobals.push('health_check_defaults');
  return {
    addedFrontends: f.added,
    removedFrontends: f.removed,
    changedFrontends: f.changed,
    addedBackends: be.added,
    removedBackends: be.removed,
    changedBackends: be.changed,
    needsRestart,
    changedGlobals,
  };
}
