import type { AdminState, BackendConfig, BackendTls, HealthCheckSettings, ResolvedConfig, Topology } from '@rustlb/core';
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
import { LABEL, type Logger } from '@rustlb/telemetry';
import type { PrimaryMetrics } from './primary-metrics.js';
import { entry, type Member, Membership } from './server-table.js';

interface Tracked {
  member: Member;
  settings: HealthCheckSettings;
  /** The backend's TLS to its servers: probes speak it too. */
  tls: BackendTls | null;
  health: ServerHealth;
  lastCheck: { at: number; ok: boolean; reason: string | null } | null;
  cooldownTimer: NodeJS.Timeout | null;
  /** When it became healthy or unhealthy (or was first seen). */
  since: number;
  /** Why it last became healthy or unhealthy; null while it never changed. */
  sinceReason: string | null;
  /** Failures seen on real traffic by the workers, since the server was first seen. */
  passiveFailures: number;
  /** Failed active probes, since the server was first seen. */
  activeFailures: number;
}

export interface ServerStatus {
  readonly key: string;
  readonly backend: string;
  readonly address: string;
  readonly weight: number;
  readonly healthy: boolean;
  readonly admin: AdminState;
  readonly lastError: string | null;
  readonly lastCheck: { readonly at: number; readonly ok: boolean; readonly reason: string | null } | null;
  /** When it entered its current health state (or was first seen), ms since the epoch. */
  readonly since: number;
  /** Why it entered its current health state (`health check failed: refused`, `passive: reset (3 in one report)`); null when first seen. */
  readonly sinceReason: string | null;
  readonly passiveFailures: number;
  readonly activeFailures: number;
}

/** An operator's drain/disable of one server, and the configured entry it came from. */
interface Admin {
  readonly state: Exclude<AdminState, 'enabled'>;
  readonly backend: string;
  /** The configured address that produced the server: its host name when resolved by DNS. */
  configured: string;
}

/**
 * Health, decided once for the whole cluster: one probe per server per interval in the
 * primary, passive failures from every worker counted together, rise/fall and cooldown
 * by the pure state machine, and the resulting server table pushed to workers by the
 * caller (`onChange`). Also holds the operators' drain/disable states, which survive
 * reloads as long as the server stays in the configuration (see `#pruneAdmin`).
 */
export class HealthRunner {
  readonly #logger: Logger;
  readonly #metrics: PrimaryMetrics;
  readonly #onChange: () => void;
  readonly #scheduler = new JitteredScheduler();
  readonly membership = new Membership();
  readonly #servers = new Map<string, Tracked>();
  readonly #admin = new Map<string, Admin>();
  #backends: readonly BackendConfig[] = [];
  #version = 0;
  #stopped = false;

  constructor(logger: Logger, metrics: PrimaryMetrics, onChange: () => void) {
    this.#logger = logger;
    this.#metrics = metrics;
    this.#onChange = onChange;
  }

  /** (Re)reads the backends: new servers start healthy and get probes; gone ones stop. */
  configure(config: ResolvedConfig): void {
    this.#backends = config.backends;
    this.membership.prune(config.backends);
    this.#reconcile();
  }

  /** DNS answered: membership may have changed. */
  membershipChanged(): void {
    this.#reconcile();
  }

  #reconcile(): void {
    const wanted = new Map<string, { member: Member; settings: HealthCheckSettings; tls: BackendTls | null }>();
    for (const b of this.#backends) for (const m of this.membership.members(b)) wanted.set(m.key, { member: m, settings: b.healthCheck, tls: b.tls });
    for (const [key, t] of this.#servers) {
      if (wanted.has(key)) continue;
      this.#scheduler.cancel(key);
      if (t.cooldownTimer !== null) clearTimeout(t.cooldownTimer);
      this.#servers.delete(key);
      this.#metrics.backendHealth.remove(t.member.backend, t.member.address);
    }
    this.#pruneAdmin(wanted);
    for (const [key, { member, settings, tls }] of wanted) {
      const t = this.#servers.get(key);
      if (t === undefined) {
        this.#servers.set(key, {
          member,
          settings,
          tls,
          health: INITIAL_HEALTH,
          lastCheck: null,
          cooldownTimer: null,
          since: Date.now(),
          sinceReason: null,
          passiveFailures: 0,
          activeFailures: 0,
        });
        this.#metrics.backendHealth.labels(member.backend, member.address).set(1);
        this.#schedule(key);
      } else {
        const changed = JSON.stringify(t.settings) !== JSON.stringify(settings);
        t.member = member;
        t.settings = settings;
        t.tls = tls;
        if (changed) this.#schedule(key);
      }
    }
    this.#changed();
  }

  /**
   * Forgets the drain/disable of servers gone from the configuration, so one removed by a
   * reload and added again later comes back enabled. An address found by DNS is the
   * configured host name's: its state is kept while that name stays in the backend, even
   * while the address is missing from the answers (a pod not ready for a while, a DNS
   * server that answers with a subset of the addresses), and forgotten with the name.
   */
  #pruneAdmin(wanted: ReadonlyMap<string, { member: Member }>): void {
    for (const [key, a] of this.#admin) {
      const m = wanted.get(key)?.member;
      if (m !== undefined) {
        // Two names of one backend can resolve to the same address: it follows whichever
        // produces it now.
        a.configured = m.configured;
        continue;
      }
      const named = this.#backends.find((b) => b.name === a.backend)?.servers.some((s) => s.dns && s.address === a.configured) ?? false;
      if (!named) this.#admin.delete(key);
    }
  }

  #schedule(key: string): void {
    const t = this.#servers.get(key);
    if (t === undefined || this.#stopped) return;
    // Maintenance (disable) pauses the probes; drain keeps them.
    if (this.#admin.get(key)?.state === 'disabled') {
      this.#scheduler.cancel(key);
      return;
    }
    this.#scheduler.schedule(key, t.settings.intervalMs, () => this.#probe(key));
  }

  async #probe(key: string): Promise<void> {
    const t = this.#servers.get(key);
    if (t === undefined) return;
    const s = t.settings;
    const target = { host: t.member.host, port: t.member.port, timeoutMs: s.timeoutMs, tls: t.tls };
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

  /** `now` is the time the observation was made: the transition's time in the log lines too. */
  #observe(t: Tracked, o: Observation, why: string, now: number): void {
    const downSince = t.health.downSince;
    t.health = o.state;
    this.#armCooldown(t);
    if (o.transition === null) return;
    t.since = now;
    t.sinceReason = why;
    const { backend, address } = t.member;
    this.#metrics.backendHealth.labels(backend, address).set(o.state.healthy ? 1 : 0);
    this.#changed();
    const healthyLeft = [...this.#servers.values()].filter((x) => x.member.backend === backend && x.health.healthy).length;
    const s = t.settings;
    // The line's own time is a moment later than the transition: `changedAt` is exact.
    const at = { changedAt: new Date(now).toISOString() };
    // Logged after the push that #changed queues (also on setImmediate, and earlier): whoever
    // reads the line can rely on every worker having been sent the new view.
    setImmediate(() => {
      if (o.transition === 'down') {
        this.#logger.warn(
          { backend, server: address, reason: why, unhealthyThreshold: s.unhealthyThreshold, cooldownMs: s.cooldownMs, ...at },
          'server is unhealthy',
        );
        if (healthyLeft === 0) this.#logger.warn({ backend, ...at }, 'backend has no healthy server');
      } else {
        const downForMs = downSince === null ? null : now - downSince;
        this.#logger.info({ backend, server: address, reason: why, healthyThreshold: s.healthyThreshold, downForMs, ...at }, 'server is healthy again');
        if (healthyLeft === 1) this.#logger.info({ backend, ...at }, 'backend has a healthy server again');
      }
    });
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

  /** drain / disable / enable of `BACKEND/ADDRESS`; false when no such server. */
  setAdmin(key: string, state: AdminState): boolean {
    const t = this.#servers.get(key);
    if (t === undefined) return false;
    if (state === 'enabled') this.#admin.delete(key);
    else this.#admin.set(key, { state, backend: t.member.backend, configured: t.member.configured });
    this.#logger.info({ server: key, state }, 'server state set by operator');
    this.#schedule(key);
    this.#changed();
    return true;
  }

  #changed(): void {
    this.#version++;
    this.#onChange();
  }

  topology(): Topology {
    const backends: Record<string, ReturnType<typeof entry>[]> = {};
    for (const b of this.#backends) {
      backends[b.name] = this.membership.members(b).map((m) => {
        const t = this.#servers.get(m.key);
        return entry(m, t?.health.healthy ?? true, this.#admin.get(m.key)?.state ?? 'enabled');
      });
    }
    return { version: this.#version, backends };
  }

  status(): ServerStatus[] {
    return [...this.#servers.values()].map((t) => ({
      key: t.member.key,
      backend: t.member.backend,
      address: t.member.address,
      weight: t.member.weight,
      healthy: t.health.healthy,
      admin: this.#admin.get(t.member.key)?.state ?? 'enabled',
      lastError: t.health.lastError,
      lastCheck: t.lastCheck,
      since: t.since,
      sinceReason: t.sinceReason,
      passiveFailures: t.passiveFailures,
      activeFailures: t.activeFailures,
    }));
  }

  stop(): void {
    this.#stopped = true;
    this.#scheduler.cancelAll();
    for (const t of this.#servers.values()) if (t.cooldownTimer !== null) clearTimeout(t.cooldownTimer);
  }
}
