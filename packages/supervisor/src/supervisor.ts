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
import { type ShutdownParts, shutDown } from './shutdown.js';
import { type StartUpParts, startUp } from './startup.js';
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

/** The parts of the primary, built once; start-up and shutdown take what they need of them. */
interface Parts extends StartUpParts, ShutdownParts {
  readonly hub: MetricsHub;
  readonly connView: ConnView;
  readonly rollingRestart: RollingRestart;
}

/** The status page polls about every second: one measurement serves every page polling within this. */
const STATUS_PAGE_REUSE_MS = 250;

/**
 * The primary process, assembled: it builds the parts and wires IPC, the control socket
 * and the admin HTTP server to them. It proxies nothing. Where things happen:
 *
 * - start-up: `startup.ts`; reload: `reload.ts`; rolling restart: `rolling-restart.ts`;
 *   `/livez` and `/readyz`: `readiness.ts`; shutdown: `shutdown.ts`;
 * - the workers and everything known of each: `fleet.ts`;
 * - the configuration in force and the file watch: `config-owner.ts`;
 * - the server table (members, health, drain/disable) and its push: `server-table.ts`,
 *   `server-table-push.ts`, fed by `health-runner.ts` and `dns-discovery.ts`;
 * - metrics: `metrics-hub.ts`; status: `status-report.ts`, `status-page.ts`.
 */
export class Supervisor {
  readonly #log: LogSink;
  readonly #p: Parts;
  /** One status page measurement shared by every page polling at the same moment. */
  #statusPage: { readonly at: number; readonly data: Promise<StatusPageData> } | null = null;

  constructor(options: SupervisorOptions) {
    this.#log = createLogger({ level: options.logLevel, format: options.logFormat, base: { role: 'primary' } });
    const logger = this.#log.logger;
    const metrics = new PrimaryMetrics();
    const phase = new Phase();
    const owner = new ConfigOwner(options.configFile, options.config, options.overrides, options.configText, options.filesDigest);
    const fleet = new Fleet({
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
    const table = new ServerTable();
    new ServerTablePush(table, logger, (topology) => fleet.broadcast({ kind: 'topology', topology }));
    const dns = new DnsDiscovery(logger, table);
    const reloads = new Reloads({ owner, table, dns, fleet, metrics, logger, phase });
    const rollingRestart = new RollingRestart(fleet, owner, phase, logger);
    const control: ControlTarget = { reloads, rollingRestart, servers: table, status: () => statusReport(this.#statusSources()) };
    const readiness = new Readiness(fleet, owner, phase);
    const hub = new MetricsHub(metrics, fleet, () => new Set(table.servers().map((s) => s.member.key)));
    const admin = new AdminHttp(
      owner.current.global.metrics,
      {
        liveness: () => readiness.liveness(),
        readiness: () => readiness.readiness(),
        scrape: () => hub.scrape(),
        statusSettings: () => owner.current.global.statusPage,
        statusData: () => this.#statusPageData(),
        statusAction: (action: StatusAction, server: string) => runCommand(control, { id: 0, command: action, server }),
      },
      logger,
    );
    this.#p = {
      owner,
      fleet,
      table,
      dns,
      reloads,
      rollingRestart,
      readiness,
      hub,
      admin,
      metrics,
      logger,
      phase,
      health: new HealthRunner(metrics, table),
      connView: new ConnView(fleet),
      control: new ControlServer(owner.current.global.adminSocket, control, logger),
      startedAt: Date.now(),
      workerEntry: options.workerEntry,
      watch: options.watch,
    };
  }

  /** SIGHUP and the file watch end here; `rustlb-ctl reload` too, through the control socket. */
  get reloads(): Reloads {
    return this.#p.reloads;
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
    return startUp(this.#p);
  }

  /** SIGTERM/SIGINT (`shutdown.ts`): resolves when all is down. */
  shutdown(signal: string): Promise<void> {
    return shutDown(this.#p, signal);
  }

  /** Second Ctrl-C. */
  forceStop(): void {
    this.#p.fleet.killAll();
    this.#p.control.close();
    this.#log.logger.warn('forced exit');
  }

  // ---- workers ------------------------------------------------------------------------

  /** Worker messages by kind; the compiler checks every kind has a handler. */
  readonly #handlers: Handlers<ToPrimary, [record: WorkerRecord]> = {
    hello: (_m, r) => {
      const { fleet, owner, table } = this.#p;
      if (r.state !== 'draining') fleet.send(r, { kind: 'config', generation: owner.generation, config: owner.current, topology: table.topology() });
    },
    'config-applied': (m, r) => this.#p.fleet.applied(r, m),
    passive: (m) => this.#p.health.passive(m),
    'conn-counts': (m, r) => this.#p.connView.report(r, m.counts),
    metrics: (m, r) => this.#p.hub.reply(r, m),
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
    if (crashed) this.#p.metrics.workerRestarts.inc();
    this.#p.hub.retire(record);
    if (this.#p.fleet.live().length === 0 && this.#p.phase.now === 'running') {
      this.#log.logger.error('no worker is alive: traffic is not being served until one respawns');
    }
  }

  // ---- status -------------------------------------------------------------------------

  #statusSources(): StatusSources {
    const { startedAt, owner, fleet, hub, table, health, readiness, phase } = this.#p;
    return { startedAt, owner, fleet, hub, table, health, ready: () => readiness.ready(), draining: () => phase.now === 'draining' };
  }

  /** `/status.json`: measured at most once per 250 ms, however many pages poll. */
  #statusPageData(): Promise<StatusPageData> {
    const now = Date.now();
    if (this.#statusPage !== null && now - this.#statusPage.at < STATUS_PAGE_REUSE_MS) return this.#statusPage.data;
    const { statusPage } = this.#p.owner.current.global;
    const data = statusPageData({ ...this.#statusSources(), lastReload: this.#p.reloads.last, actions: statusPage.actions && statusPage.token !== null });
    this.#statusPage = { at: now, data };
    return data;
  }
}
