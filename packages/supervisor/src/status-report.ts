import { type ResolvedConfig, type StatusResult, VERSION, type WorkerStatus } from '@rustlb/core';
import { METRIC, type MetricsJson } from '@rustlb/telemetry';
import type { Fleet } from './fleet.js';
import type { HealthRunner } from './health-runner.js';
import type { MetricsHub, ProcessUsage } from './metrics-hub.js';

export interface StatusSources {
  readonly startedAt: number;
  readonly configFile: string;
  readonly generation: number;
  readonly config: ResolvedConfig;
  readonly ready: boolean;
  readonly draining: boolean;
  readonly fleet: Fleet;
  readonly hub: MetricsHub;
  readonly health: HealthRunner;
  /** In-flight requests and sessions per server key, cluster-wide. */
  readonly inFlight: ReadonlyMap<string, number>;
}

function describeExit(exit: { code: number | null; signal: string | null } | null): string | null {
  if (exit === null) return null;
  return exit.signal !== null ? `signal ${exit.signal}` : `code ${exit.code}`;
}

type Value = MetricsJson[number]['values'][number];

/** The sum of a family's series whose labels include `match`. */
function total(metrics: MetricsJson, name: string, match: Readonly<Record<string, string>>): number {
  let n = 0;
  for (const v of metrics.find((m) => m.name === name)?.values ?? ([] as Value[])) {
    const labels = v.labels as Record<string, string | number>;
    if (Object.entries(match).every(([k, want]) => String(labels[k]) === want)) n += v.value;
  }
  return n;
}

/**
 * What `rustlb-ctl status` shows: fresh worker figures (asked for now), process usage,
 * and per frontend and per server counts from the cluster's merged metrics.
 * `collected`: the metrics and usage of a collection just made (the status page's), so
 * none is made again.
 */
export async function statusReport(
  s: StatusSources,
  collected?: { readonly metrics: MetricsJson; readonly usage: ReadonlyMap<number, ProcessUsage> },
): Promise<StatusResult> {
  const { metrics, usage } = collected ?? (await s.hub.snapshot());
  const { fleet, config } = s;
  // In the order of the config file (DNS members in answer order), not in the order they were first seen.
  const order = new Map<string, number>();
  for (const members of Object.values(s.health.topology().backends)) {
    for (const [i, m] of members.entries()) order.set(m.key, i);
  }
  const servers = s.health.status().sort((x, y) => (order.get(x.key) ?? 0) - (order.get(y.key) ?? 0));
  const live: WorkerStatus[] = fleet.live().map((r) => {
    const figures = s.hub.figures(r);
    const u = usage.get(r.pid);
    const slot = fleet.slotHealth(r.slot);
    return {
      slot: r.slot,
      pid: r.pid,
      state: r.state,
      uptimeSeconds: Math.round((Date.now() - r.startedAt) / 1000),
      generation: r.generation,
      cpuPercent: u === undefined ? null : Math.round(u.cpu * 10) / 10,
      rssBytes: u?.memory ?? null,
      activeConnections: figures?.activeConnections ?? null,
      requests: figures?.requests ?? null,
      restarts: slot?.restarts ?? 0,
      crashLoop: fleet.inCrashLoop(r.slot),
      lastExit: describeExit(slot?.lastExit ?? null),
      respawnInMs: null,
    };
  });
  // A slot between a crash and its respawn has no process, and is the one an operator must see.
  const waiting: WorkerStatus[] = fleet.waiting().map(({ slot, health }) => ({
    slot,
    pid: health.lastExit?.pid ?? 0,
    state: 'respawning',
    uptimeSeconds: 0,
    generation: 0,
    cpuPercent: null,
    rssBytes: null,
    activeConnections: null,
    requests: null,
    restarts: health.restarts,
    crashLoop: fleet.inCrashLoop(slot),
    lastExit: describeExit(health.lastExit),
    respawnInMs: health.respawnAt === null ? null : Math.max(0, health.respawnAt - Date.now()),
  }));
  return {
    version: VERSION,
    pid: process.pid,
    uptimeSeconds: Math.round((Date.now() - s.startedAt) / 1000),
    configFile: s.configFile,
    generation: s.generation,
    ready: s.ready,
    draining: s.draining,
    workers: [...live, ...waiting].sort((a, b) => a.slot - b.slot),
    frontends: config.frontends.map((f) => ({
      name: f.name,
      protocol: f.protocol,
      listen: f.listenText,
      backend: f.backend,
      algorithm: f.algorithm,
      activeConnections: total(metrics, METRIC.activeConnections, { frontend: f.name }),
      connections: total(metrics, METRIC.connections, { frontend: f.name }),
      requests: f.protocol === 'http' ? total(metrics, METRIC.requests, { frontend: f.name }) : null,
    })),
    backends: config.backends.map((b) => ({
      name: b.name,
      servers: servers
        .filter((v) => v.backend === b.name)
        .map((v) => ({
          server: v.key,
          healthy: v.healthy,
          state: v.admin,
          weight: v.weight,
          activeRequests: s.inFlight.get(v.key) ?? 0,
          lastCheck: v.lastCheck === null ? null : v.lastCheck.ok ? 'ok' : (v.lastCheck.reason ?? 'failed'),
          requests: total(metrics, METRIC.serverRequests, { backend: b.name, server: v.address }),
          passiveFailures: v.passiveFailures,
          activeFailures: v.activeFailures,
          lastChange: new Date(v.since).toISOString(),
          lastChangeReason: v.sinceReason,
        })),
    })),
    certificates: config.frontends.flatMap((f) =>
      (f.tls?.certificates ?? []).map((c) => ({
        frontend: f.name,
        names: c.names,
        notAfter: new Date(c.notAfterMs).toISOString(),
        fingerprint: c.fingerprint,
        file: c.certFile,
      })),
    ),
  };
}
