import cluster from 'node:cluster';
import { type ConfigDiff, deepFreeze, diffConfig, formatProblem } from '@rustlb/config';
import {
  type AdminState,
  errorMessage,
  formatHostPort,
  isRustlbError,
  type LogFormat,
  type LogLevel,
  type ReloadResult,
  type ResolvedConfig,
  RustlbError,
  type StatusResult,
  VERSION,
} from '@rustlb/core';
import { type ConfigApplied, dispatch, type Handlers, type Incoming, type ToPrimary } from '@rustlb/core/ipc';
import { createLogger, type LogSink } from '@rustlb/telemetry';
import { AdminHttp, type Check, isLoopback, type StatusAction } from './admin-http.js';
import { ConfigOwner, type Overrides } from './config-owner.js';
import { ConnView } from './conn-view.js';
import { ControlServer, runCommand } from './control/server.js';
import type { ControlTarget, RestartResult } from './control/target.js';
import { DnsDiscovery } from './dns-discovery.js';
import { Fleet, type WorkerRecord } from './fleet.js';
import { HealthRunner } from './health-runner.js';
import { MetricsHub } from './metrics-hub.js';
import { preflight } from './preflight.js';
import { PrimaryMetrics } from './primary-metrics.js';
import { type ReloadRecord, type StatusPageData, statusPageData } from './status-page.js';
import { statusReport } from './status-report.js';

export interface SupervisorOptions {
  readonly configFile: string;
  /** The validated configuration the process started with, and the text it came from. */
  readonly config: ResolvedConfig;
  readonly configText: string;
  /** Digest of the certificate, key and CA files it was made from (`ValidationResult.filesDigest`). */
  readonly filesDigest?: string | undefined;
  readonly overrides: Overrides;
  /** `--workers`, else global.workers, resolved to a number. */
  readonly workers: number;
  readonly watch: boolean;
  /** Module a worker process runs. */
  readonly workerEntry: string;
  /** Log settings of the primary (`--log-level` already applied). */
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
}

/** How long a reload waits for every worker to acknowledge the new generation. */
const ACK_TIMEOUT_MS = 10_000;
/** How long start-up waits for the workers to be listening. */
const STARTUP_TIMEOUT_MS = 30_000;
/** A starting worker younger than this does not make the process unready (a respawn in progress). */
const STARTING_GRACE_MS = 5_000;

type Phase = 'starting' | 'running' | 'draining' | 'stopped';

/**
 * The primary process: owns the configuration, health, DNS, metrics, probes and the
 * control socket, forks the workers and pushes them configuration and server state.
 * It never proxies traffic.
 */
export class Supervisor implements ControlTarget {
  readonly #o: SupervisorOptions;
  readonly #log: LogSink;
  readonly #metrics = new PrimaryMetrics();
  readonly #owner: ConfigOwner;
  readonly #fleet: Fleet;
  readonly #hub: MetricsHub;
  readonly #health: HealthRunner;
  readonly #dns: DnsDiscovery;
  readonly #admin: AdminHttp;
  readonly #control: ControlServer;
  readonly #startedAt = Date.now();
  #phase: Phase = 'starting';
  #topologyQueued = false;
  /** Worker pid → its least_connections counts. */
  readonly #connView: ConnView;
  /** Bind failures per worker pid for the generation it last applied. */
  readonly #bindFailures = new Map<number, ConfigApplied['bindFailures']>();
  readonly #ackWaiters = new Set<() => void>();
  #reloading: Promise<unknown> = Promise.resolve();
  #restarting = false;
  #loopLag = 0;
  #lagTimer: NodeJS.Timeout | null = null;
  /** The outcome of the last reload, for the status page. */
  #lastReload: ReloadRecord | null = null;
  /** One status page measurement shared by every page polling at the same moment. */
  #statusPage: { readonly at: number; readonly data: Promise<StatusPageData> } | null = null;

  constructor(options: SupervisorOptions) {
    this.#o = options;
    this.#log = createLogger({ level: options.logLevel, format: options.logFormat, base: { role: 'primary' } });
    const logger = this.#log.logger;
    this.#owner = new ConfigOwner(options.configFile, options.config, options.overrides, options.configText, options.filesDigest);
    this.#fleet = new Fleet({
      count: options.workers,
      env: (slot) => ({
        RUSTLB_WORKER_SLOT: String(slot),
        RUSTLB_WORKERS: String(options.workers),
        RUSTLB_LOG_LEVEL: this.#owner.current.global.logLevel,
        RUSTLB_LOG_FORMAT: this.#owner.current.global.logFormat,
      }),
      logger,
      onMessage: (r, m) => this.#receive(r, m),
      onExit: (r, crashed) => this.#workerExited(r, crashed),
    });
    this.#hub = new MetricsHub(this.#metrics, this.#fleet, () => {
      const keys = new Set<string>();
      for (const entries of Object.values(this.#health.topology().backends)) for (const e of entries) keys.add(e.key);
      return keys;
    });
    this.#connView = new ConnView(this.#fleet);
    this.#health = new HealthRunner(logger, this.#metrics, () => this.#queueTopology());
    this.#dns = new DnsDiscovery(logger, this.#health);
    this.#admin = new AdminHttp(
      this.#owner.current.global.metrics,
      {
        liveness: () => this.liveness(),
        readiness: () => this.readiness(),
        scrape: () => this.#hub.scrape(),
        statusSettings: () => this.#config.global.statusPage,
        statusData: () => this.#statusPageData(),
        statusAction: (action: StatusAction, server: string) => runCommand(this, { id: 0, command: action, server }),
      },
      logger,
    );
    this.#control = new ControlServer(this.#owner.current.global.adminSocket, this, logger);
  }

  /** Logs why the process cannot go on (start-up failure, failed shutdown). */
  logFatal(err: unknown, message: string): void {
    this.#log.logger.fatal({ err, code: isRustlbError(err) ? err.code : undefined }, message);
  }

  /** Waits until every log line written so far is out (call before exiting). */
  flushLogs(): Promise<void> {
    return this.#log.flush();
  }

  get #config(): ResolvedConfig {
    return this.#owner.current;
  }

  /** Starts everything; throws RLB_ERR_BIND (exit 1) when an address cannot be used. */
  async start(): Promise<void> {
    const config = this.#config;
    const logger = this.#log.logger;
    await preflight(config.frontends);
    await this.#control.listen();
    await this.#admin.listen();
    this.#watchLoop();
    await withTimeout(this.#dns.configure(config), 5_000);
    this.#health.configure(config);
    this.#metrics.generation.set(this.#owner.generation);
    this.#metrics.lastReload.set(Date.now() / 1000);
    this.#metrics.setCertificates(config);
    setupCluster(this.#o.workerEntry);
    this.#fleet.start();
    const ok = await this.#waitForGeneration(this.#owner.generation, STARTUP_TIMEOUT_MS, true);
    // A SIGTERM during start-up: the shutdown owns the process from here.
    if (this.#phase !== 'starting') return;
    const failure = [...this.#bindFailures.values()].flat()[0];
    if (failure !== undefined) throw new RustlbError('RLB_ERR_BIND', failure.message, { details: { ...failure } });
    if (!ok) throw new RustlbError('RLB_ERR_INTERNAL', 'workers did not start in time');
    // Watching before ready: a change written the moment /readyz first answers 200 is not missed.
    if (this.#o.watch) {
      await this.#owner.watch(
        () => void this.#enqueueReload('file change', true),
        (err) => logger.warn({ err, config: this.#owner.file }, 'watching the configuration file failed; reload with SIGHUP or rustlb-ctl reload'),
      );
    }
    if (this.#phase !== 'starting') return;
    for (const f of config.frontends) {
      logger.info({ frontend: f.name, protocol: f.protocol, listen: formatHostPort(f.listen), backend: f.backend, algorithm: f.algorithm }, 'listening');
    }
    const m = config.global.metrics;
    logger.info(
      {
        version: VERSION,
        workers: this.#fleet.count,
        config: this.#owner.file,
        frontends: config.frontends.map((f) => `${f.name}=${f.protocol}://${formatHostPort(f.listen)}`),
        metrics: m.enabled ? `http://${formatHostPort(m.address)}${m.path}` : 'off',
        probes: `http://${formatHostPort(m.address)}/livez /readyz`,
        statusPage: (config.global.statusPage.enabled ?? isLoopback(m.address.host)) ? `http://${formatHostPort(m.address)}/status` : 'off',
        controlSocket: config.global.adminSocket,
        scheduling: cluster.schedulingPolicy === cluster.SCHED_RR ? 'rr' : 'none',
      },
      'rustlb started',
    );
    const sp = config.global.statusPage;
    if (sp.actions && sp.token === null) logger.warn('global.admin.status_actions is on without global.admin.token: the status page offers no actions');
    if (this.#o.watch) logger.info({ config: this.#owner.file }, 'watching the configuration file');
    else logger.info({ config: this.#owner.file }, 'not watching the configuration file (--no-watch)');
    // Ready only now: whoever sees /readyz 200 can expect the start-up lines before it.
    this.#phase = 'running';
    // The file may have changed between its first read and the watch taking hold.
    if (this.#o.watch) void this.#enqueueReload('file changed during start-up', true);
  }

  // ---- workers ------------------------------------------------------------------------

  #sendConfig(record: WorkerRecord): void {
    this.#fleet.send(record, { kind: 'config', generation: this.#owner.generation, config: this.#config, topology: this.#health.topology() });
  }

  /** Worker messages by kind; the compiler checks every kind has a handler. */
  readonly #handlers: Handlers<ToPrimary, [record: WorkerRecord]> = {
    hello: (_m, r) => {
      if (r.state !== 'draining') this.#sendConfig(r);
    },
    'config-applied': (m, r) => this.#applied(r, m),
    passive: (m) => this.#health.passive(m),
    'conn-counts': (m, r) => this.#connView.report(r.pid, m.counts),
    metrics: (m, r) => this.#hub.reply(r, m),
    // The exit that follows is what counts.
    drained: () => {},
  };

  #receive(record: WorkerRecord, message: Incoming): void {
    dispatch(
      this.#handlers,
      message,
      (kind) => this.#log.logger.warn({ worker: record.slot, workerPid: record.pid, kind }, 'message of an unknown kind from a worker: dropped'),
      record,
    );
  }

  #applied(record: WorkerRecord, m: ConfigApplied): void {
    record.generation = Math.max(record.generation, m.generation);
    this.#bindFailures.set(record.pid, m.bindFailures);
    for (const f of m.bindFailures) this.#log.logger.error({ worker: record.slot, ...f }, 'frontend could not listen');
    if (record.state === 'starting' && m.bindFailures.length === 0) {
      record.state = 'ready';
      record.readyAt = Date.now();
      this.#log.logger.info(
        { worker: record.slot, workerPid: record.pid, generation: m.generation, startupMs: record.readyAt - record.startedAt },
        'worker ready',
      );
    }
    for (const wake of this.#ackWaiters) wake();
  }

  #workerExited(record: WorkerRecord, crashed: boolean): void {
    if (crashed) this.#metrics.workerRestarts.inc();
    this.#hub.retire(record);
    this.#connView.forget(record.pid);
    this.#bindFailures.delete(record.pid);
    for (const wake of this.#ackWaiters) wake();
    if (this.#fleet.live().length === 0 && this.#phase === 'running') {
      this.#log.logger.error('no worker is alive: traffic is not being served until one respawns');
    }
  }

  /** Resolves true once every live worker (and at least one) applied `generation`. */
  #waitForGeneration(generation: number, timeoutMs: number, failOnBind = false): Promise<boolean> {
    return new Promise((resolve) => {
      const check = () => {
        if (this.#phase === 'draining' || this.#phase === 'stopped') return done(false);
        const live = this.#fleet.live().filter((r) => r.state !== 'draining');
        if (failOnBind && [...this.#bindFailures.values()].some((f) => f.length > 0)) return done(false);
        if (live.length > 0 && live.every((r) => r.generation >= generation)) done(true);
      };
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.#ackWaiters.delete(check);
        resolve(ok);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      this.#ackWaiters.add(check);
      check();
    });
  }

  #queueTopology(): void {
    if (this.#topologyQueued) return;
    this.#topologyQueued = true;
    setImmediate(() => {
      this.#topologyQueued = false;
      this.#fleet.broadcast({ kind: 'topology', topology: this.#health.topology() });
    });
  }

  // ---- control ------------------------------------------------------------------------

  /** Never rejects (a SIGHUP has nobody to throw to): a reload that could not run is a refused one. */
  async reload(trigger: string): Promise<ReloadResult> {
    return (await this.#enqueueReload(trigger, false)) as ReloadResult;
  }

  /** Reloads run one after the other, so each compares against the outcome of the one before. */
  #enqueueReload(trigger: string, onlyIfChanged: boolean): Promise<ReloadResult | null> {
    const run = this.#reloading.then(() =>
      this.#reload(trigger, onlyIfChanged)
        .catch((err: unknown): ReloadResult => {
          // A bug, not a verdict on the file: still a refusal, and counted as one.
          this.#metrics.reloads.labels('failure').inc();
          this.#log.logger.error({ err, trigger }, 'reload failed');
          return this.#refused([`reload failed: ${(err as Error).message}`]);
        })
        .then((result) => {
          if (result !== null) {
            const { accepted, generation, errors, warnings } = result;
            this.#lastReload = { at: Date.now(), trigger, accepted, generation, errors, warnings };
          }
          return result;
        }),
    );
    this.#reloading = run;
    return run;
  }

  #refused(errors: string[], warnings: string[] = []): ReloadResult {
    return { accepted: false, generation: this.#owner.generation, errors, warnings, changes: [], needsRestart: [], acknowledged: [], pending: [] };
  }

  /** Null when `onlyIfChanged` and the file holds what was last accepted or rejected. */
  async #reload(trigger: string, onlyIfChanged: boolean): Promise<ReloadResult | null> {
    const logger = this.#log.logger;
    const started = performance.now();
    if (this.#phase === 'draining' || this.#phase === 'stopped') {
      logger.warn({ trigger }, 'reload ignored: shutting down');
      return this.#refused(['rustlb is shutting down: no reload']);
    }
    const { result, hash } = await this.#owner.load();
    if (onlyIfChanged && hash !== null && hash === this.#owner.hash) {
      logger.debug({ trigger, config: this.#owner.file }, 'configuration file event; content unchanged');
      return null;
    }
    const refuse = (errors: string[], warnings: string[] = []): ReloadResult => {
      this.#metrics.reloads.labels('failure').inc();
      this.#owner.rejected(hash);
      logger.error({ trigger, errors }, 'configuration rejected; the old one stays in force');
      return this.#refused(errors, warnings);
    };
    if (!result.ok) return refuse(result.errors.map(formatProblem), result.warnings.map(formatProblem));
    const next = result.config;
    const old = this.#config;
    let diff: ConfigDiff;
    let applied: ResolvedConfig;
    // Anything that goes wrong before the new generation is accepted refuses it, counted,
    // and remembered with the file's content (the watcher does not retry it unchanged).
    try {
      diff = diffConfig(old, next);
      // New addresses must be free before any worker is asked to bind them.
      const taken = new Set(old.frontends.map((f) => formatHostPort(f.listen)));
      await preflight(next.frontends.filter((f) => !taken.has(formatHostPort(f.listen))));
      // Settings that need a restart keep their old value until then.
      applied = keepRestartOnly(old, next);
    } catch (err) {
      return refuse([errorMessage(err)]);
    }
    const gen = this.#owner.accept(applied, hash);
    logger.level = applied.global.logLevel;
    await this.#dns.configure(applied);
    this.#health.configure(applied);
    this.#fleet.broadcast({ kind: 'config', generation: gen, config: applied, topology: this.#health.topology() });
    const all = await this.#waitForGeneration(gen, ACK_TIMEOUT_MS);
    const live = this.#fleet.live().filter((r) => r.state !== 'draining');
    const acknowledged = live.filter((r) => r.generation >= gen).map((r) => r.slot);
    const pending = live.filter((r) => r.generation < gen).map((r) => r.slot);
    const changes = [
      ...diff.addedFrontends.map((n) => `frontend ${n} added`),
      ...diff.removedFrontends.map((n) => `frontend ${n} removed`),
      ...diff.changedFrontends.map((n) => `frontend ${n} changed`),
      ...diff.addedBackends.map((n) => `backend ${n} added`),
      ...diff.removedBackends.map((n) => `backend ${n} removed`),
      ...diff.changedBackends.map((n) => `backend ${n} changed`),
      ...diff.changedGlobals.map((n) => `${n} changed`),
      ...diff.changedCertificates,
    ];
    this.#metrics.reloads.labels('success').inc();
    this.#metrics.generation.set(gen);
    this.#metrics.setCertificates(applied);
    this.#metrics.lastReload.set(Date.now() / 1000);
    // Checked free just before, an address can still be taken in between: say so rather than stay silent.
    const unbound = new Set(live.flatMap((r) => (this.#bindFailures.get(r.pid) ?? []).map((f) => f.message)));
    const warnings = [...result.warnings.map(formatProblem), ...unbound];
    const durationMs = Math.round(performance.now() - started);
    logger.info({ trigger, generation: gen, changes, needsRestart: diff.needsRestart, warnings, acknowledged, pending, durationMs }, 'configuration reloaded');
    if (!all) logger.warn({ generation: gen, pending }, 'some workers did not acknowledge the new configuration in time');
    return { accepted: true, generation: gen, errors: [], warnings, changes, needsRestart: diff.needsRestart, acknowledged, pending };
  }

  /** What `rustlb-ctl status` and the status page both report from. */
  #statusInput() {
    return {
      startedAt: this.#startedAt,
      configFile: this.#owner.file,
      generation: this.#owner.generation,
      config: this.#config,
      ready: this.readiness().every((c) => c.ok),
      draining: this.#phase === 'draining',
      fleet: this.#fleet,
      hub: this.#hub,
      health: this.#health,
      inFlight: this.#connView.totals(),
    };
  }

  status(): Promise<StatusResult> {
    return statusReport(this.#statusInput());
  }

  /** `/status.json`: measured at most once per 250 ms, however many pages poll. */
  #statusPageData(): Promise<StatusPageData> {
    const now = Date.now();
    if (this.#statusPage !== null && now - this.#statusPage.at < 250) return this.#statusPage.data;
    const { statusPage } = this.#config.global;
    const data = statusPageData({
      ...this.#statusInput(),
      lastReload: this.#lastReload,
      actions: statusPage.actions && statusPage.token !== null,
    });
    this.#statusPage = { at: now, data };
    return data;
  }

  setServerState(server: string, state: AdminState): void {
    if (!this.#health.setAdmin(server, state)) {
      const known = this.#health.status().map((s) => s.key);
      throw new RustlbError('RLB_ERR_CONTROL_REFUSED', `no server ${server} (servers: ${known.join(', ') || 'none'})`);
    }
  }

  /**
   * Rolling restart, one worker at a time: its replacement is forked and has applied the
   * configuration (so it is listening on every frontend) before the old one is told to
   * drain. The old one stops accepting at once, finishes what it has (long-lived
   * tunnels included) and is killed at shutdown_timeout.
   */
  async restartWorkers(): Promise<RestartResult> {
    if (this.#phase !== 'running') throw new RustlbError('RLB_ERR_CONTROL_REFUSED', `cannot restart workers while ${this.#phase}`);
    if (this.#restarting) throw new RustlbError('RLB_ERR_CONTROL_REFUSED', 'a rolling restart is already in progress');
    this.#restarting = true;
    try {
      return await this.#restartWorkers();
    } finally {
      this.#restarting = false;
    }
  }

  async #restartWorkers(): Promise<RestartResult> {
    const replaced: { slot: number; oldPid: number; newPid: number }[] = [];
    const timeout = this.#config.global.shutdownTimeoutMs;
    for (const old of this.#fleet.live().filter((r) => r.state === 'ready')) {
      if (this.#phase !== 'running') break;
      // It may have crashed (and been respawned) while earlier slots were being replaced.
      if (!old.live || old.state !== 'ready') continue;
      const fresh = this.#fleet.fork(old.slot, true);
      const up = await this.#waitFor(() => fresh.state === 'ready' || !fresh.live || this.#phase !== 'running', STARTUP_TIMEOUT_MS);
      if (this.#phase !== 'running') break;
      if (!up || fresh.state !== 'ready') {
        if (fresh.live) this.#fleet.retire(fresh, 0, 0, 'replacement did not start in time');
        throw new RustlbError(
          'RLB_ERR_CONTROL_REFUSED',
          `the replacement for worker ${old.slot} did not start${fresh.live ? ' in time' : ''}; worker ${old.slot} (pid ${old.pid}) keeps serving`,
          { details: { replaced } },
        );
      }
      this.#fleet.retire(old, 0, timeout, 'rolling restart');
      replaced.push({ slot: old.slot, oldPid: old.pid, newPid: fresh.pid });
      this.#log.logger.info({ worker: old.slot, old: old.pid, new: fresh.pid }, 'worker replaced (rolling restart)');
    }
    return { restarted: replaced.map((r) => r.slot), replaced };
  }

  #waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const check = () => {
        if (!condition()) return;
        clearTimeout(timer);
        this.#ackWaiters.delete(check);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.#ackWaiters.delete(check);
        resolve(false);
      }, timeoutMs);
      this.#ackWaiters.add(check);
      check();
    });
  }

  // ---- probes -------------------------------------------------------------------------

  liveness(): Check[] {
    const live = this.#fleet.live().length;
    return [
      { name: 'event-loop', ok: this.#loopLag < 5_000, detail: `lag ${Math.round(this.#loopLag)}ms` },
      { name: 'workers', ok: live > 0 || this.#phase === 'starting', detail: `${live} alive` },
    ];
  }

  readiness(): Check[] {
    const gen = this.#owner.generation;
    const now = Date.now();
    const live = this.#fleet.live().filter((r) => r.state !== 'draining');
    const counted = live.filter((r) => r.state === 'ready' || now - r.startedAt > STARTING_GRACE_MS);
    const ready = live.filter((r) => r.state === 'ready');
    const behind = counted.filter((r) => r.generation < gen);
    const unbound = [...this.#bindFailures.values()].flat();
    return [
      { name: 'started', ok: this.#phase !== 'starting', detail: this.#phase },
      { name: 'not-draining', ok: this.#phase !== 'draining' && this.#phase !== 'stopped', detail: this.#phase === 'draining' ? 'shutting down' : 'serving' },
      { name: 'workers', ok: ready.length > 0, detail: `${ready.length} ready of ${this.#fleet.count}` },
      {
        name: 'config',
        ok: behind.length === 0,
        detail: behind.length === 0 ? `every worker has generation ${gen}` : `workers ${behind.map((r) => r.slot).join(', ')} behind generation ${gen}`,
      },
      {
        name: 'frontends',
        ok: unbound.length === 0,
        detail: unbound.length === 0 ? 'all bound' : unbound.map((f) => `${f.frontend} (${f.address}: ${f.code})`).join(', '),
      },
    ];
  }

  #watchLoop(): void {
    let last = performance.now();
    this.#lagTimer = setInterval(() => {
      const now = performance.now();
      this.#loopLag = Math.max(0, now - last - 500);
      last = now;
    }, 500);
    this.#lagTimer.unref();
  }

  // ---- shutdown -----------------------------------------------------------------------

  /**
   * SIGTERM/SIGINT: /readyz fails at once; workers keep accepting for shutdown_delay
   * with `Connection: close` on every response, then stop; in-flight work has
   * shutdown_timeout more; then whatever is left is killed. Resolves when all is down.
   */
  async shutdown(signal: string): Promise<void> {
    if (this.#phase === 'draining' || this.#phase === 'stopped') return;
    const { shutdownDelayMs, shutdownTimeoutMs } = this.#config.global;
    this.#phase = 'draining';
    for (const wake of this.#ackWaiters) wake();
    const logger = this.#log.logger;
    logger.info({ signal, shutdownDelayMs, shutdownTimeoutMs }, 'shutting down: draining workers');
    await this.#owner.stopWatching();
    this.#dns.stop();
    this.#health.stop();
    await this.#fleet.stop(shutdownDelayMs, shutdownTimeoutMs);
    this.#phase = 'stopped';
    this.#admin.close();
    this.#control.close();
    if (this.#lagTimer !== null) clearInterval(this.#lagTimer);
    logger.info({ uptimeSeconds: Math.round((Date.now() - this.#startedAt) / 1000) }, 'rustlb stopped');
  }

  /** Second Ctrl-C. */
  forceStop(): void {
    this.#fleet.killAll();
    this.#control.close();
    this.#log.logger.warn('forced exit');
  }
}

function setupCluster(exec: string): void {
  // The kernel spreads connections over the workers' shared socket: no primary on the
  // data path, and a dying worker loses only its own connections (see docs/architecture.md).
  if (process.env.NODE_CLUSTER_SCHED_POLICY === undefined) cluster.schedulingPolicy = cluster.SCHED_NONE;
  cluster.setupPrimary({ exec, args: [], silent: false, execArgv: workerExecArgv() });
}

/**
 * V8's young generation of a worker: 4 MB semi-spaces instead of Node's up to 16 MB. A
 * proxy allocates a few KB per request and keeps almost none of it, so scavenges stay
 * cheap when more frequent, and a worker under load no longer grows its young generation
 * by tens of MB of garbage (docs/performance.md, memory). An operator's own setting, in
 * NODE_OPTIONS or on the command line, wins.
 */
function workerExecArgv(): string[] {
  const own = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((a) => a.includes('semi-space-size'));
  return own ? [...process.execArgv] : [...process.execArgv, '--max-semi-space-size=4'];
}

/** Global settings that cannot change while running keep their value; the diff reports them. */
function keepRestartOnly(old: ResolvedConfig, next: ResolvedConfig): ResolvedConfig {
  return deepFreeze({
    ...next,
    global: { ...next.global, workers: old.global.workers, adminSocket: old.global.adminSocket, metrics: old.global.metrics, logFormat: old.global.logFormat },
  });
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return Promise.race([p, new Promise<undefined>((r) => setTimeout(() => r(undefined), ms).unref())]);
}
