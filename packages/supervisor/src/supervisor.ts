import type { LogFormat, LogLevel, ResolvedConfig } from '@rustlb/core';
import { isRustlbError } from '@rustlb/core';
import { dispatch, type Handlers, type Incoming, type ToPrimary } from '@rustlb/core/ipc';
import { createLogger, type LogSink } from '@rustlb/telemetry';
import { AdminHttp, type StatusAction } from './admin-http.js';
import { ConfigOwner, type Overrides } from './config-owner.js';
import { ConnView } from './conn-view.js';
import { ControlServer, runCommand } from './control/server.js';
import type { ControlTarget } from './control/target.js';
import { DnsDiscovery } from './dns-discovery.js';
import { Fleet, type WorkerRecord } from './fleet.js';
import { HealthRunner } from './health-runner.js';
import { MetricsHub } from './metrics-hub.js';
import { Phase } from './phase.js';
import { PrimaryMetrics } from './primary-metrics.js';
import { Readiness } from './readiness.js';
import { Reloads } from './reload.js';
import { RollingRestart } from './rolling-restart.js';
import { ServerTable } from './server-table.js';
import { ServerTablePush } from './server-table-push.js';
import { startUp } from './startup.js';
import { type StatusPageData, statusPageData } from './status-page.js';
import { type StatusSources, statusReport } from './status-report.js';

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

/** The status page polls about every second: one measurement serves every page polling within this. */
const STATUS_PAGE_REUSE_MS = 250;

/**
 * The primary process, assembled: it builds the parts and wires IPC, the control socket
 * and the admin HTTP server to them. It proxies nothing. Where things happen:
 *
 * - start-up: `startup.ts`; reload: `reload.ts`; rolling restart: `rolling-restart.ts`;
 *   `/livez` and `/readyz`: `readiness.ts`; shutdown: {@link shutdown} below;
 * - the workers and everything known of each: `fleet.ts`;
 * - the configuration in force and the file watch: `config-owner.ts`;
 * - the server table (members, health, drain/disable) and its push: `server-table.ts`,
 *   `server-table-push.ts`, fed by `health-runner.ts` and `dns-discovery.ts`;
 * - metrics: `metrics-hub.ts`; status: `status-report.ts`, `status-page.ts`.
 */
export class Supervisor {
  readonly #o: SupervisorOptions;
  readonly #log: LogSink;
  readonly #startedAt = Date.now();
  readonly #phase = new Phase();
  readonly #metrics = new PrimaryMetrics();
  readonly #owner: ConfigOwner;
  readonly #fleet: Fleet;
  readonly #hub: MetricsHub;
  readonly #connView: ConnView;
  readonly #table = new ServerTable();
  readonly #health: HealthRunner;
  readonly #dns: DnsDiscovery;
  readonly #readiness: Readiness;
  readonly reloads: Reloads;
  readonly #rollingRestart: RollingRestart;
  readonly #admin: AdminHttp;
  readonly #control: ControlServer;
  /** One status page measurement shared by every page polling at the same moment. */
  #statusPage: { readonly at: number; readonly data: Promise<StatusPageData> } | null = null;

  constructor(options: SupervisorOptions) {
    this.#o = options;
    this.#log = createLogger({ level: options.logLevel, format: options.logFormat, base: { role: 'primary' } });
    const logger = this.#log.logger;
    const owner = new ConfigOwner(options.configFile, options.config, options.overrides, options.configText, options.filesDigest);
    this.#owner = owner;
    this.#fleet = new Fleet({
      count: options.workers,
      env: (slot) => ({
        RUSTLB_WORKER_SLOT: String(slot),
        RUSTLB_WORKERS: String(options.workers),
        RUSTLB_LOG_LEVEL: owner.current.global.logLevel,
        RUSTLB_LOG_FORMAT: owner.current.global.logFormat,
      }),
      logger,
      onMessage: (r, m) => this.#receive(r, m),
      onExit: (r, crashed) => this.#workerExited(r, crashed),
    });
    const fleet = this.#fleet;
    this.#hub = new MetricsHub(this.#metrics, fleet, () => new Set(this.#table.servers().map((s) => s.member.key)));
    this.#connView = new ConnView(fleet);
    this.#health = new HealthRunner(this.#metrics, this.#table);
    new ServerTablePush(this.#table, logger, (topology) => fleet.broadcast({ kind: 'topology', topology }));
    this.#dns = new DnsDiscovery(logger, this.#table);
    this.#readiness = new Readiness(fleet, owner, this.#phase);
    this.reloads = new Reloads({ owner, table: this.#table, dns: this.#dns, fleet, metrics: this.#metrics, logger, phase: this.#phase });
    this.#rollingRestart = new RollingRestart(fleet, owner, this.#phase, logger);
    const control: ControlTarget = {
      reloads: this.reloads,
      rollingRestart: this.#rollingRestart,
      servers: this.#table,
      status: () => statusReport(this.#statusSources()),
    };
    this.#admin = new AdminHttp(
      owner.current.global.metrics,
      {
        liveness: () => this.#readiness.liveness(),
        readiness: () => this.#readiness.readiness(),
        scrape: () => this.#hub.scrape(),
        statusSettings: () => owner.current.global.statusPage,
        statusData: () => this.#statusPageData(),
        statusAction: (action: StatusAction, server: string) => runCommand(control, { id: 0, command: action, server }),
      },
      logger,
    );
    this.#control = new ControlServer(owner.current.global.adminSocket, control, logger);
  }

  /** Logs why the process cannot go on (start-up failure, failed shutdown). */
  logFatal(err: unknown, message: string): void {
    this.#log.logger.fatal({ err, code: isRustlbError(err) ? err.code : undefined }, message);
  }

  /** Waits until every log line written so far is out (call before exiting). */
  flushLogs(): Promise<void> {
    return this.#log.flush();
  }

  /** Starts everything (`startup.ts`); throws RLB_ERR_BIND (exit 1) when an address cannot be used. */
  start(): Promise<void> {
    return startUp({
      owner: this.#owner,
      fleet: this.#fleet,
      table: this.#table,
      dns: this.#dns,
      admin: this.#admin,
      control: this.#control,
      readiness: this.#readiness,
      reloads: this.reloads,
      metrics: this.#metrics,
      logger: this.#log.logger,
      phase: this.#phase,
      workerEntry: this.#o.workerEntry,
      watch: this.#o.watch,
    });
  }

  // ---- workers ------------------------------------------------------------------------

  /** Worker messages by kind; the compiler checks every kind has a handler. */
  readonly #handlers: Handlers<ToPrimary, [record: WorkerRecord]> = {
    hello: (_m, r) => {
      if (r.state === 'draining') return;
      this.#fleet.send(r, { kind: 'config', generation: this.#owner.generation, config: this.#owner.current, topology: this.#table.topology() });
    },
    'config-applied': (m, r) => this.#fleet.applied(r, m),
    passive: (m) => this.#health.passive(m),
    'conn-counts': (m, r) => this.#connView.report(r, m.counts),
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

  #workerExited(record: WorkerRecord, crashed: boolean): void {
    if (crashed) this.#metrics.workerRestarts.inc();
    this.#hub.retire(record);
    if (this.#fleet.live().length === 0 && this.#phase.now === 'running') {
      this.#log.logger.error('no worker is alive: traffic is not being served until one respawns');
    }
  }

  // ---- status -------------------------------------------------------------------------

  #statusSources(): StatusSources {
    return {
      startedAt: this.#startedAt,
      owner: this.#owner,
      fleet: this.#fleet,
      hub: this.#hub,
      table: this.#table,
      health: this.#health,
      ready: () => this.#readiness.ready(),
      draining: () => this.#phase.now === 'draining',
    };
  }

  /** `/status.json`: measured at most once per 250 ms, however many pages poll. */
  #statusPageData(): Promise<StatusPageData> {
    const now = Date.now();
    if (this.#statusPage !== null && now - this.#statusPage.at < STATUS_PAGE_REUSE_MS) return this.#statusPage.data;
    const { statusPage } = this.#owner.current.global;
    const data = statusPageData({ ...this.#statusSources(), lastReload: this.reloads.last, actions: statusPage.actions && statusPage.token !== null });
    this.#statusPage = { at: now, data };
    return data;
  }

  // ---- shutdown -----------------------------------------------------------------------

  /**
   * SIGTERM/SIGINT: /readyz fails at once; workers keep accepting for shutdown_delay
   * with `Connection: close` on every response, then stop; in-flight work has
   * shutdown_timeout more; then whatever is left is killed. Resolves when all is down.
   */
  async shutdown(signal: string): Promise<void> {
    if (this.#phase.shuttingDown) return;
    const { shutdownDelayMs, shutdownTimeoutMs } = this.#owner.current.global;
    this.#phase.draining();
    const logger = this.#log.logger;
    logger.info({ signal, shutdownDelayMs, shutdownTimeoutMs }, 'shutting down: draining workers');
    await this.#owner.stopWatching();
    this.#dns.stop();
    this.#health.stop();
    await this.#fleet.stop(shutdownDelayMs, shutdownTimeoutMs);
    this.#phase.stopped();
    this.#admin.close();
    this.#control.close();
    this.#readiness.stop();
    logger.info({ uptimeSeconds: Math.round((Date.now() - this.#startedAt) / 1000) }, 'rustlb stopped');
  }

  /** Second Ctrl-C. */
  forceStop(): void {
    this.#fleet.killAll();
    this.#control.close();
    this.#log.logger.warn('forced exit');
  }
}
