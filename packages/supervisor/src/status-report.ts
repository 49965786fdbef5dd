import { type AdminState, type StatusResult, VERSION, type WorkerStatus } from '@rustlb/core';
import { METRIC, type MetricsJson } from '@rustlb/telemetry';
import type { ConfigOwner } from './config-owner.js';
import type { Fleet } from './fleet.js';
import type { HealthDetail, HealthRunner } from './health-runner.js';
import type { MetricsHub, ProcessUsage } from './metrics-hub.js';
import type { ServerTable } from './server-table.js';

/** The parts a status report reads (`rustlb-ctl status`, the status page). */
export interface StatusSources {
  readonly startedAt: number;
  readonly owner: ConfigOwner;
  readonly fleet: Fleet;
  readonly hub: MetricsHub;
  readonly table: ServerTable;
  readonly health: HealthRunner;
  readonly ready: () => boolean;
  readonly draining: () => boolean;
}

/** One server as status reports show it: the table's row with what the health runner found. */
export interface ServerStatus extends HealthDetail {
  readonly key: string;
  readonly backend: string;
  readonly address: string;
  readonly weight: number;
  readonly healthy: boolean;
  readonly admin: AdminState;
  readonly since: number;
  readonly sinceReason: string | null;
}

/** Every server in the order of the configuration (DNS members in answer order). */
export function serverStatus(table: ServerTable, health: HealthRunner): ServerStatus[] {
  return table.rows().map(({ member, healthy, admin, since, sinceReason }) => ({
    key: member.key,
    backend: member.backend,
    address: member.address,
    weight: member.weight,
    healthy,
    admin,
    since,
    sinceReason,
    ...(health.detail(member.key) ?? { lastError: null, lastCheck: null, passiveFailures: 0, activeFailures: 0 }),
  }));
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
  const { fleet, owner } = s;
  const config = owner.current;
  const servers = serverStatus(s.table, s.health);
  // Read from the workers' reports of this very collection, for every backend.
  const inFlight = fleet.inFlight();
  const live: WorkerStatus[] = fleet.live().map((r) => {
    const figures = r.report?.figures;
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
    configFile: owner.file,
    generation: owner.generation,
    ready: s.ready(),
    draining: s.draining(),
    workers: [...live, ...waiting].sort((a, b) => a.slot - b.slot),
    frontends: config.frontends.map((f) => ({
      name: f.name,
      protocol: f.protocol,
      tls: f.tls !== null,
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
          activeRequests: inFlight.get(v.key) ?? 0,
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
