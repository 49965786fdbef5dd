import { isDeepStrictEqual } from 'node:util';
import type { BackendConfig, FrontendConfig, ResolvedConfig } from '@rustlb/core';

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

const RESTART_ONLY = ['workers', 'adminSocket', 'metrics', 'logFormat'] as const;

/** What a reload from `a` to `b` changes; used for the reload log line and `rustlb-ctl reload`. */
export function diffConfig(a: ResolvedConfig, b: ResolvedConfig): ConfigDiff {
  const f = compare<FrontendConfig>(a.frontends, b.frontends);
  const be = compare<BackendConfig>(a.backends, b.backends);
  const needsRestart: string[] = [];
  const changedGlobals: string[] = [];
  for (const key of Object.keys(b.global) as (keyof ResolvedConfig['global'])[]) {
    if (isDeepStrictEqual(a.global[key], b.global[key])) continue;
    if ((RESTART_ONLY as readonly string[]).includes(key)) needsRestart.push(`global.${key}`);
    else changedGlobals.push(`global.${key}`);
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
