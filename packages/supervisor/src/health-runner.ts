import type { BackendConfig, HealthCheckSettings } from '@rustlb/core';
import type { PassiveReport } from '@rustlb/core/ipc';
import {
  INITIAL_HEALTH,
  JitteredScheduler,
  nextDeadline,
  type Observation,
  observePassive,
  observeProbe,
  type ProbeResult,
  probeHttp,
  probeTcp,
  type ServerHealth,
  tick,
} from '@rustlb/health';
import { LABEL } from '@rustlb/telemetry';
import type { PrimaryMetrics } from './primary-metrics.js';
import type { Member, ServerTable } from './server-table.js';

interface Tracked {
  member: Member;
  /** Its backend's health check settings. */
  settings: HealthCheckSettings;
  /** Its backend, whose TLS and PROXY header to servers the probes use too. */
  backend: BackendConfig;
  health: ServerHealth;
  lastCheck: { at: number; ok: boolean; reason: string | null } | null;
  cooldownTimer: NodeJS.Timeout | null;
  /** Failures seen on real traffic by the workers, since the server was first seen. */
  passiveFailures: number;
  /** Failed active probes, since the server was first seen. */
  activeFailures: number;
}

/** What the health runner knows of a server beyond healthy or not (for status). */
export interface HealthDetail {
  readonly lastError: string | null;
  readonly lastCheck: { readonly at: number; readonly ok: boolean; readonly reason: string | null } | null;
  readonly passiveFailures: number;
  readonly activeFailures: number;
}

/**
 * Health, decided once for the whole cluster: one probe per server per interval in the
 * primary, passive failures from every worker counted together, rise/fall and cooldown
 * by the pure state machine. It follows the server table's membership (probes start and
 * stop with servers, pause while one is disabled) and writes its verdicts into the table,
 * which announces them.
 */
export class HealthRunner {
  readonly #metrics: PrimaryMetrics;
  readonly #table: ServerTable;
  readonly #scheduler = new JitteredScheduler();
  readonly #servers = new Map<string, Tracked>();
  #stopped = false;

  constructor(metrics: PrimaryMetrics, table: ServerTable) {
    this.#metrics = metrics;
    this.#table = table;
    table.onChanged((change) => {
      if (change.kind === 'config' || change.kind === 'dns') this.#reconcile();
      else if (change.kind === 'admin') this.#schedule(change.server);
    });
  }

  /** The table's servers now: new ones start healthy and get probes; gone ones stop. */
  #reconcile(): void {
    const wanted = new Map(this.#table.servers().map((s) => [s.member.key, s]));
    for (const [key, t] of this.#servers) {
      if (wanted.has(key)) continue;
      this.#scheduler.cancel(key);
      if (t.cooldownTimer !== null) clearTimeout(t.cooldownTimer);
      this.#servers.delete(key);
      this.#metrics.backendHealth.remove(t.member.backend, t.member.address);
    }
    for (const [key, { member, backend }] of wanted) {
      const t = this.#servers.get(key);
      if (t === undefined) {
        this.#servers.set(key, {
          member,
          settings: backend.healthCheck,
          backend,
          health: INITIAL_HEALTH,
          lastCheck: null,
          cooldownTimer: null,
          passiveFailures: 0,
          activeFailures: 0,
        });
        this.#metrics.backendHealth.labels(member.backend, member.address).set(1);
        this.#schedule(key);
      } else {
        const changed = JSON.stringify(t.settings) !== JSON.stringify(backend.healthCheck);
        t.member = member;
        t.settings = backend.healthCheck;
        t.backend = backend;
        if (changed) this.#schedule(key);
      }
    }
  }

  #schedule(key: string): void {
    const t = this.#servers.get(key);
    if (t === undefined || this.#stopped) return;
    // Maintenance (disable) pauses the probes; drain keeps them.
    if (this.#table.adminOf(key) === 'disabled') {
      this.#scheduler.cancel(key);
      return;
    }
    this.#scheduler.schedule(key, t.settings.intervalMs, () => this.#probe(key));
  }
  async #probe(key: string): Promise<void> {
    const t = this.#servers.get(key);
    if (t === undefined) return;
    const s = t.settings;
    const target = { host: t.member.host, port: t.member.port, timeoutMs: s.timeoutMs, tls: t.backend.tls, sendProxy: t.backend.sendProxy };
    const result: ProbeResult =
      s.type === 'http'
        ? await probeHttp({ ...target, path: s.path, expectedStatus: s.expectedStatus, hostHeader: t.member.configured })
        : await probeTcp(target);
    // The server may have left (reload, DNS) while the probe ran.
    if (this.#servers.get(key) !== t || this.#stopped) return;
    const now = Date.now();
    t.lastCheck = { at: now, ok: result.ok, reason: result.reason };
    if (!result.ok) t.activeFailures++;
    // The original's label values (`Success`, `Failure`), so its dashboards keep matching.
    this.#metrics.healthChecks.labels(t.member.backend, t.member.address, result.ok ? LABEL.success : LABEL.failure).inc();
    this.#observe(
      t,
      observeProbe(t.health, result.ok, result.reason, now, s),
      result.ok ? 'health check passed' : `health check failed: ${result.reason}`,
      now,
    );
  }

  /** Failures and successes workers saw on real traffic. */
  passive(report: PassiveReport): void {
    const now = Date.now();
    // One observation per server and batch: a success in the batch came after its failures
    // (the worker drops it when a failure follows), so they were not consecutive.
    const seen = new Map<string, { failures: number; reason: string | null; successes: number }>();
    for (const f of report.failures) {
      const e = seen.get(f.key) ?? { failures: 0, reason: null, successes: 0 };
      e.failures += f.count;
      e.reason = f.reason;
      seen.set(f.key, e);
    }
    for (const key of report.successes) {
      const e = seen.get(key) ?? { failures: 0, reason: null, successes: 0 };
      e.successes++;
      seen.set(key, e);
    }
    for (const [key, e] of seen) {
      const t = this.#servers.get(key);
      if (t === undefined) continue;
      t.passiveFailures += e.failures;
      const why = e.failures > 0 ? `passive: ${e.reason} (${e.failures} in one report)` : 'passive: answered';
      this.#observe(t, observePassive(t.health, e.failures, e.successes, e.reason, now, t.settings), why, now);
    }
  }

  /** `now` is the time the observation was made: the transition's time in the table and the log lines too. */
  #observe(t: Tracked, o: Observation, why: string, now: number): void {
    t.health = o.state;
    this.#armCooldown(t);
    if (o.transition === null) return;
    this.#metrics.backendHealth.labels(t.member.backend, t.member.address).set(o.state.healthy ? 1 : 0);
    this.#table.setHealth(t.member.key, o.state.healthy, why, now, t.settings);
  }

  /** Successes came during the cooldown: come back when it ends, unless a probe fails first. */
  #armCooldown(t: Tracked): void {
    if (t.cooldownTimer !== null) {
      clearTimeout(t.cooldownTimer);
      t.cooldownTimer = null;
    }
    const deadline = nextDeadline(t.health, t.settings);
    if (deadline === null) return;
    t.cooldownTimer = setTimeout(
      () => {
        t.cooldownTimer = null;
        if (this.#servers.get(t.member.key) === t) {
          const now = Date.now();
          this.#observe(t, tick(t.health, now, t.settings), `cooldown over, ${t.health.successes} consecutive checks passed`, now);
        }
      },
      Math.max(0, deadline - Date.now()),
    );
    t.cooldownTimer.unref();
  }

  /** What the probes and the workers' reports found for a server (for status); null for one not in the table. */
  detail(key: string): HealthDetail | null {
    const t = this.#servers.get(key);
    if (t === undefined) return null;
    return { lastError: t.health.lastError, lastCheck: t.lastCheck, passiveFailures: t.passiveFailures, activeFailures: t.activeFailures };
  }

  stop(): void {
    this.#stopped = true;
    this.#scheduler.cancelAll();
    for (const t of this.#servers.values()) if (t.cooldownTimer !== null) clearTimeout(t.cooldownTimer);
  }
}
