import type { CertificateStatus, StatusResult, WorkerStatus } from '@rustlb/core';
import { LABEL, METRIC, type MetricsJson } from '@rustlb/telemetry';
import { type StatusSources, serverStatus, statusReport } from './status-report.js';

/** The outcome of the last reload (SIGHUP, file change, `rustlb-ctl reload`). */
export interface ReloadRecord {
  /** ms since the epoch. */
  readonly at: number;
  readonly trigger: string;
  readonly accepted: boolean;
  /** The generation in force after it. */
  readonly generation: number;
  readonly errors: readonly string[];
  readonly warnings: readonly string[];
}

export type StatusClass = '1xx' | '2xx' | '3xx' | '4xx' | '5xx';
export type Responses = Record<StatusClass, number>;

/** A duration histogram summed over label sets: cumulative counts per upper bound, the last one +Inf. */
export interface Histogram {
  readonly bounds: number[];
  /** `counts[i]` requests took at most `bounds[i]` seconds; `counts[bounds.length]` is the +Inf bucket (all of them). */
  readonly counts: number[];
  readonly count: number;
  readonly sum: number;
}

/** A frontend as `rustlb-ctl status` reports it (name, protocol, tls, listen, backend, algorithm), with the page's figures. */
export interface FrontendFigures extends Omit<StatusResult['frontends'][number], 'activeConnections' | 'connections' | 'requests'> {
  /** Open client connections (`rustlb_active_connections`). */
  readonly activeConnections: number;
  /** Connections accepted (`rustlb_connections_total`). */
  readonly connections: number;
  /** Requests answered (`rustlb_requests_total`), and by status class. */
  readonly requests: number;
  readonly responses: Responses;
  readonly duration: Histogram;
}

export interface ServerFigures {
  /** `BACKEND/ADDRESS`, as `rustlb-ctl drain` takes it. */
  readonly server: string;
  readonly address: string;
  readonly healthy: boolean;
  /** When it entered that health state, ms since the epoch. */
  readonly since: number;
  /** Operator state: enabled, drain or disabled. */
  readonly state: string;
  readonly weight: number;
  /** Requests and sessions in flight now, over every worker (each counts its own when asked). */
  readonly inFlight: number;
  readonly lastCheck: { readonly at: number; readonly ok: boolean; readonly reason: string | null } | null;
  /** Active health checks (`rustlb_health_checks_total`). */
  readonly checks: { readonly success: number; readonly failure: number };
  /** HTTP requests answered after this server was picked (`rustlb_server_requests_total`), and by status class. */
  readonly requests: number;
  readonly responses: Responses;
  /** `rustlb_server_request_duration_seconds`. */
  readonly duration: Histogram;
}

export interface BackendFigures {
  readonly name: string;
  /** Requests answered from this backend over every frontend and route. */
  readonly requests: number;
  readonly responses: Responses;
  readonly duration: Histogram;
  readonly servers: readonly ServerFigures[];
}

export interface WorkerFigures extends WorkerStatus {
  /** Time of the slot's last crash, ms since the epoch. */
  readonly lastCrashAt: number | null;
}

/** `GET /status.json`: what the status page shows, from the counters `/metrics` serves. */
export interface StatusPageData {
  /** When it was measured, ms since the epoch (rates are differences over this). */
  readonly time: number;
  readonly process: {
    readonly version: string;
    readonly pid: number;
    readonly startedAt: number;
    readonly uptimeSeconds: number;
    readonly configFile: string;
    readonly generation: number;
    readonly ready: boolean;
    readonly draining: boolean;
    /** `global.metrics.enabled`: off, workers record no request figures (all stay 0). */
    readonly metricsEnabled: boolean;
    readonly lastReload: ReloadRecord | null;
    readonly reloads: { readonly success: number; readonly failure: number };
  };
  readonly workers: readonly WorkerFigures[];
  readonly frontends: readonly FrontendFigures[];
  readonly backends: readonly BackendFigures[];
  /** The certificates of TLS frontends in force, as `rustlb-ctl status` lists them (never a key). */
  readonly certificates: readonly CertificateStatus[];
  /** Drain / disable / enable offered (global.admin.status_actions with a token). */
  readonly actions: boolean;
}

export interface StatusPageSources extends StatusSources {
  readonly lastReload: ReloadRecord | null;
  readonly actions: boolean;
}

type Labels = Record<string, string | number | undefined>;
export interface Value {
  readonly labels: Labels;
  readonly value: number;
  readonly metricName?: string;
}

/** The values of metric `name` in a merged snapshot. */
export function valuesOf(metrics: MetricsJson, name: string): Value[] {
  return (metrics.find((m) => m.name === name)?.values ?? []) as unknown as Value[];
}

/** Sum of `name`'s values whose labels include `match`. */
export function sum(values: readonly Value[], match: Labels): number {
  let total = 0;
  for (const v of values) if (Object.entries(match).every(([k, want]) => String(v.labels[k]) === String(want))) total += v.value;
  return total;
}

/** Requests by status class. */
export function responses(values: readonly Value[], match: Labels): Responses {
  const out: Responses = { '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 };
  for (const v of values) {
    if (!Object.entries(match).every(([k, want]) => String(v.labels[k]) === String(want))) continue;
    const cls = `${String(v.labels.status).charAt(0)}xx` as StatusClass;
    if (cls in out) out[cls] += v.value;
  }
  return out;
}

/** One duration histogram (`name`, by default `rustlb_request_duration_seconds`) summed over every label set matching `match`. */
export function histogram(values: readonly Value[], match: Labels, name: string = METRIC.duration): Histogram {
  const byBound = new Map<number, number>();
  let count = 0;
  let total = 0;
  for (const v of values) {
    if (!Object.entries(match).every(([k, want]) => String(v.labels[k]) === String(want))) continue;
    if (v.metricName === `${name}_bucket`) {
      const le = v.labels.le;
      const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le);
      byBound.set(bound, (byBound.get(bound) ?? 0) + v.value);
    } else if (v.metricName === `${name}_count`) count += v.value;
    else if (v.metricName === `${name}_sum`) total += v.value;
  }
  const bounds = [...byBound.keys()].filter((b) => Number.isFinite(b)).sort((a, b) => a - b);
  return { bounds, counts: [...bounds.map((b) => byBound.get(b) ?? 0), count], count, sum: total };
}

/** Builds `/status.json` from `rustlb-ctl status`'s report and the cluster's merged metrics. */
export async function statusPageData(s: StatusPageSources): Promise<StatusPageData> {
  const { metrics, usage } = await s.hub.snapshot();
  const time = Date.now();
  const report: StatusResult = await statusReport(s, { metrics, usage });
  const requests = valuesOf(metrics, METRIC.requests);
  const duration = valuesOf(metrics, METRIC.duration);
  const serverRequests = valuesOf(metrics, METRIC.serverRequests);
  const serverDuration = valuesOf(metrics, METRIC.serverDuration);
  const active = valuesOf(metrics, METRIC.activeConnections);
  const connections = valuesOf(metrics, METRIC.connections);
  const checks = valuesOf(metrics, METRIC.healthChecks);
  const reloads = valuesOf(metrics, METRIC.configReloads);
  const health = new Map(serverStatus(s.table, s.health).map((v) => [v.key, v]));
  return {
    time,
    process: {
      version: report.version,
      pid: report.pid,
      startedAt: s.startedAt,
      uptimeSeconds: report.uptimeSeconds,
      configFile: report.configFile,
      generation: report.generation,
      ready: report.ready,
      draining: report.draining,
      metricsEnabled: s.owner.current.global.metrics.enabled,
      lastReload: s.lastReload,
      reloads: { success: sum(reloads, { result: 'success' }), failure: sum(reloads, { result: 'failure' }) },
    },
    workers: report.workers.map((w) => ({ ...w, lastCrashAt: s.fleet.slotHealth(w.slot)?.lastExit?.at ?? null })),
    frontends: report.frontends.map((f) => ({
      ...f,
      activeConnections: sum(active, { frontend: f.name }),
      connections: sum(connections, { frontend: f.name }),
      requests: sum(requests, { frontend: f.name }),
      responses: responses(requests, { frontend: f.name }),
      duration: histogram(duration, { frontend: f.name }),
    })),
    backends: report.backends.map((b) => ({
      name: b.name,
      requests: sum(requests, { backend: b.name }),
      responses: responses(requests, { backend: b.name }),
      duration: histogram(duration, { backend: b.name }),
      servers: b.servers.map((v) => {
        const h = health.get(v.server);
        const address = h?.address ?? v.server.slice(v.server.lastIndexOf('/') + 1);
        return {
          server: v.server,
          address,
          healthy: v.healthy,
          since: h?.since ?? s.startedAt,
          state: v.state,
          weight: v.weight,
          inFlight: v.activeRequests,
          lastCheck: h?.lastCheck ?? null,
          checks: {
            success: sum(checks, { backend: b.name, server: address, result: LABEL.success }),
            failure: sum(checks, { backend: b.name, server: address, result: LABEL.failure }),
          },
          requests: sum(serverRequests, { backend: b.name, server: address }),
          responses: responses(serverRequests, { backend: b.name, server: address }),
          duration: histogram(serverDuration, { backend: b.name, server: address }, METRIC.serverDuration),
        };
      }),
    })),
    certificates: report.certificates,
    actions: s.actions,
  };
}
