import cluster from 'node:cluster';
import { formatHostPort, RustlbError, VERSION } from '@rustlb/core';
import type { Logger } from '@rustlb/telemetry';
import { type AdminHttp, isLoopback } from './admin-http.js';
import type { ConfigOwner } from './config-owner.js';
import type { ControlServer } from './control/server.js';
import type { DnsDiscovery } from './dns-discovery.js';
import type { Fleet } from './fleet.js';
import type { Phase } from './phase.js';
import { preflight } from './preflight.js';
import type { PrimaryMetrics } from './primary-metrics.js';
import type { Readiness } from './readiness.js';
import type { Reloads } from './reload.js';
import type { ServerTable } from './server-table.js';

/** How long start-up (and a rolling restart's replacement) waits for workers to be listening. */
export const STARTUP_TIMEOUT_MS = 30_000;
/** Start-up does not wait longer for the first DNS answers: names still unresolved have no servers until they come. */
const FIRST_DNS_MS = 5_000;

export interface StartUpParts {
  readonly owner: ConfigOwner;
  readonly fleet: Fleet;
  readonly table: ServerTable;
  readonly dns: DnsDiscovery;
  readonly admin: AdminHttp;
  readonly control: ControlServer;
  readonly readiness: Readiness;
  readonly reloads: Reloads;
  readonly metrics: PrimaryMetrics;
  readonly logger: Logger;
  readonly phase: Phase;
  /** Module a worker process runs. */
  readonly workerEntry: string;
  readonly watch: boolean;
}

/**
 * Start-up, step by step: the listen addresses are free; the control socket and the admin
 * HTTP server listen; DNS names are resolved and the server table built; the workers are
 * forked and each applies generation 1; the file is watched; the start-up lines are
 * written; only then is the process ready. Throws RLB_ERR_BIND (exit 1) when an address
 * cannot be used.
 */
export async function startUp(p: StartUpParts): Promise<void> {
  const config = p.owner.current;
  await preflight(config.frontends);
  await p.control.listen();
  await p.admin.listen();
  p.readiness.watchEventLoop();
  await withTimeout(p.dns.configure(config), FIRST_DNS_MS);
  p.table.configure(config.backends);
  p.metrics.generation.set(p.owner.generation);
  p.metrics.lastReload.set(Date.now() / 1000);
  p.metrics.setCertificates(config);
  setupCluster(p.workerEntry);
  p.fleet.start();
  const generation = p.owner.generation;
  const ok = await p.fleet.waitUntil(() => p.fleet.caughtUp(generation) || p.fleet.bindFailures().length > 0, STARTUP_TIMEOUT_MS, p.phase.stopping);
  // A SIGTERM during start-up: the shutdown owns the process from here.
  if (p.phase.now !== 'starting') return;
  const failure = p.fleet.bindFailures()[0];
  if (failure !== undefined) throw new RustlbError('RLB_ERR_BIND', failure.message, { details: { ...failure } });
  if (!ok) throw new RustlbError('RLB_ERR_INTERNAL', 'workers did not start in time');
  // Watching before ready: a change written the moment /readyz first answers 200 is not missed.
  if (p.watch) {
    await p.owner.watch(
      () => p.reloads.fileChanged('file change'),
      (err) => p.logger.warn({ err, config: p.owner.file }, 'watching the configuration file failed; reload with SIGHUP or rustlb-ctl reload'),
    );
  }
  if (p.phase.now !== 'starting') return;
  logStarted(p);
  // Ready only now: whoever sees /readyz 200 can expect the start-up lines before it.
  p.phase.running();
  // The file may have changed between its first read and the watch taking hold.
  if (p.watch) p.reloads.fileChanged('file changed during start-up');
}

function logStarted(p: StartUpParts): void {
  const config = p.owner.current;
  const logger = p.logger;
  for (const f of config.frontends) {
    logger.info({ frontend: f.name, protocol: f.protocol, listen: formatHostPort(f.listen), backend: f.backend, algorithm: f.algorithm }, 'listening');
  }
  const m = config.global.metrics;
  logger.info(
    {
      version: VERSION,
      workers: p.fleet.count,
      config: p.owner.file,
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
  if (p.watch) logger.info({ config: p.owner.file }, 'watching the configuration file');
  else logger.info({ config: p.owner.file }, 'not watching the configuration file (--no-watch)');
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

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return Promise.race([p, new Promise<undefined>((r) => setTimeout(() => r(undefined), ms).unref())]);
}
