import { createHash } from 'node:crypto';
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
  /**
   * Certificates (and CAs) whose content changed under frontends and backends present in
   * both, by fingerprint (`frontend web: certificate www.example.com AB:CD:EF… -> 01:23:45…`):
   * a renewal shows even when the files' names stay the same. Never any key material.
   */
  readonly changedCertificates: readonly string[];
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

const short = (fingerprint: string) => `${fingerprint.slice(0, 23)}…`;

/** A PEM text as one short line: the start of its SHA-256 (a CA bundle, a client certificate). */
const pemDigest = (pem: string | null) =>
  pem === null
    ? 'none'
    : short(
        createHash('sha256')
          .update(pem)
          .digest('hex')
          .toUpperCase()
          .replace(/(..)(?!$)/g, '$1:'),
      );

function certificateChanges(a: ResolvedConfig, b: ResolvedConfig): string[] {
  const out: string[] = [];
  const oldFrontends = byName(a.frontends);
  for (const f of b.frontends) {
    const old = oldFrontends.get(f.name);
    if (old === undefined) continue;
    const before = old.tls?.certificates ?? [];
    const after = f.tls?.certificates ?? [];
    for (let i = 0; i < Math.max(before.length, after.length); i++) {
      const x = before[i];
      const y = after[i];
      if (x?.fingerprint === y?.fingerprint && x?.keyFile === y?.keyFile) continue;
      const name = y?.names[0] ?? x?.names[0] ?? `#${i + 1}`;
      out.push(
        `frontend ${f.name}: certificate ${name} ${x === undefined ? 'none' : short(x.fingerprint)} -> ${y === undefined ? 'none' : short(y.fingerprint)}`,
      );
    }
  }
  const oldBackends = byName(a.backends);
  for (const be of b.backends) {
    const old = oldBackends.get(be.name);
    if (old === undefined) continue;
    if ((old.tls?.caPem ?? null) !== (be.tls?.caPem ?? null))
      out.push(`backend ${be.name}: CA ${pemDigest(old.tls?.caPem ?? null)} -> ${pemDigest(be.tls?.caPem ?? null)}`);
    if ((old.tls?.certPem ?? null) !== (be.tls?.certPem ?? null) || (old.tls?.keyPem ?? null) !== (be.tls?.keyPem ?? null))
      out.push(`backend ${be.name}: client certificate ${pemDigest(old.tls?.certPem ?? null)} -> ${pemDigest(be.tls?.certPem ?? null)}`);
  }
  return out;
}

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
    changedCertificates: certificateChanges(a, b),
  };
}
