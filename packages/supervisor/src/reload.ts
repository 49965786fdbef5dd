import { type ConfigDiff, deepFreeze, diffConfig, formatProblem, type ValidationResult } from '@rustlb/config';
import { errorMessage, formatHostPort, type ReloadResult, type ResolvedConfig } from '@rustlb/core';
import type { Logger } from '@rustlb/telemetry';
import type { ConfigOwner } from './config-owner.js';
import type { DnsDiscovery } from './dns-discovery.js';
import type { Fleet } from './fleet.js';
import type { Phase } from './phase.js';
import { preflight } from './preflight.js';
import type { PrimaryMetrics } from './primary-metrics.js';
import type { ServerTable } from './server-table.js';
import type { ReloadRecord } from './status-page.js';

/** How long a reload waits for every worker to acknowledge the new generation. */
const ACK_TIMEOUT_MS = 10_000;

export interface ReloadParts {
  readonly owner: ConfigOwner;
  readonly table: ServerTable;
  readonly dns: DnsDiscovery;
  readonly fleet: Fleet;
  readonly metrics: PrimaryMetrics;
  readonly logger: Logger;
  readonly phase: Phase;
}

/**
 * A reload (SIGHUP, `rustlb-ctl reload`, a change of the file or of a certificate it
 * names), step by step:
 *
 * 1. read and validate the file (`#read`); an invalid one is refused, the old one stays;
 * 2. check what validation cannot (`#check`): the new listen addresses are free, and
 *    settings that need a restart keep their old value;
 * 3. accept it as generation N (`ConfigOwner.accept`);
 * 4. apply it in the primary (`#applyInPrimary`): log level, DNS names, the server table
 *    (health checks follow the table);
 * 5. send it to every worker, then wait until each acknowledges generation N (`#push`);
 * 6. count, log and answer what changed (`#report`).
 *
 * Reloads run one after the other, so each compares against the outcome of the one before.
 */
export class Reloads {
  readonly #p: ReloadParts;
  #queue: Promise<unknown> = Promise.resolve();
  #last: ReloadRecord | null = null;

  constructor(parts: ReloadParts) {
    this.#p = parts;
  }

  /** The outcome of the last reload that ran, for the status page. */
  get last(): ReloadRecord | null {
    return this.#last;
  }

  /** Never rejects (a SIGHUP has nobody to throw to): a reload that could not run is a refused one. */
  async run(trigger: string): Promise<ReloadResult> {
    return (await this.#enqueue(trigger, false)) as ReloadResult;
  }

  /** A file event: reloads only if the content differs from what was last accepted or rejected. */
  fileChanged(trigger: string): void {
    void this.#enqueue(trigger, true);
  }

  #enqueue(trigger: string, onlyIfChanged: boolean): Promise<ReloadResult | null> {
    const run = this.#queue.then(() =>
      this.#reload(trigger, onlyIfChanged)
        .catch((err: unknown): ReloadResult => {
          // A bug, not a verdict on the file: still a refusal, and counted as one.
          this.#p.metrics.reloads.labels('failure').inc();
          this.#p.logger.error({ err, trigger }, 'reload failed');
          return this.#refused([`reload failed: ${(err as Error).message}`]);
        })
        .then((result) => {
          if (result !== null) {
            const { accepted, generation, errors, warnings } = result;
            this.#last = { at: Date.now(), trigger, accepted, generation, errors, warnings };
          }
          return result;
        }),
    );
    this.#queue = run;
    return run;
  }

  /** Null when `onlyIfChanged` and the file holds what was last accepted or rejected. */
  async #reload(trigger: string, onlyIfChanged: boolean): Promise<ReloadResult | null> {
    const { owner, logger, phase } = this.#p;
    const started = performance.now();
    if (phase.shuttingDown) {
      logger.warn({ trigger }, 'reload ignored: shutting down');
      return this.#refused(['rustlb is shutting down: no reload']);
    }
    const { result, hash } = await this.#read();
    if (onlyIfChanged && hash !== null && hash === owner.hash) {
      logger.debug({ trigger, config: owner.file }, 'configuration file event; content unchanged');
      return null;
    }
    const refuse = (errors: string[], warnings: string[] = []): ReloadResult => {
      this.#p.metrics.reloads.labels('failure').inc();
      owner.rejected(hash);
      logger.error({ trigger, errors }, 'configuration rejected; the old one stays in force');
      return this.#refused(errors, warnings);
    };
    if (!result.ok) return refuse(result.errors.map(formatProblem), result.warnings.map(formatProblem));
    const checked = await this.#check(owner.current, result.config);
    // Anything that goes wrong before the new generation is accepted refuses it, counted,
    // and remembered with the file's content (the watcher does not retry it unchanged).
    if ('error' in checked) return refuse([checked.error]);
    const generation = owner.accept(checked.applied, hash);
    await this.#applyInPrimary(checked.applied);
    const all = await this.#push(generation, checked.applied);
    return this.#report({ trigger, generation, diff: checked.diff, applied: checked.applied, warnings: result.warnings.map(formatProblem), all, started });
  }

  /** Step 1: the file, read and validated. */
  #read(): Promise<{ result: ValidationResult; hash: string | null }> {
    return this.#p.owner.load();
  }

  /** Step 2: what a valid file can still not do here. */
  async #check(old: ResolvedConfig, next: ResolvedConfig): Promise<{ diff: ConfigDiff; applied: ResolvedConfig } | { error: string }> {
    try {
      const diff = diffConfig(old, next);
      // New addresses must be free before any worker is asked to bind them.
      const taken = new Set(old.frontends.map((f) => formatHostPort(f.listen)));
      await preflight(next.frontends.filter((f) => !taken.has(formatHostPort(f.listen))));
      // Settings that need a restart keep their old value until then.
      return { diff, applied: keepRestartOnly(old, next) };
    } catch (err) {
      return { error: errorMessage(err) };
    }
  }

  /** Step 4: the primary's own parts take the new configuration. */
  async #applyInPrimary(applied: ResolvedConfig): Promise<void> {
    this.#p.logger.level = applied.global.logLevel;
    await this.#p.dns.configure(applied);
    // In the same turn as the push: workers get the configuration before any server table naming its backends.
    this.#p.table.configure(applied.backends);
  }

  /** Step 5: every worker gets generation N; true once every serving worker acknowledged it in time. */
  #push(generation: number, applied: ResolvedConfig): Promise<boolean> {
    const { fleet, table, phase } = this.#p;
    fleet.broadcast({ kind: 'config', generation, config: applied, topology: table.topology() });
    return fleet.waitUntil(() => fleet.caughtUp(generation), ACK_TIMEOUT_MS, phase.stopping);
  }

  /** Step 6: metrics, the log line and the answer. */
  #report(r: {
    trigger: string;
    generation: number;
    diff: ConfigDiff;
    applied: ResolvedConfig;
    warnings: string[];
    all: boolean;
    started: number;
  }): ReloadResult {
    const { fleet, metrics, logger } = this.#p;
    const { diff, generation } = r;
    const serving = fleet.serving();
    const acknowledged = serving.filter((w) => w.generation >= generation).map((w) => w.slot);
    const pending = serving.filter((w) => w.generation < generation).map((w) => w.slot);
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
    metrics.reloads.labels('success').inc();
    metrics.generation.set(generation);
    metrics.setCertificates(r.applied);
    metrics.lastReload.set(Date.now() / 1000);
    // Checked free just before, an address can still be taken in between: say so rather than stay silent.
    const unbound = new Set(serving.flatMap((w) => w.bindFailures.map((f) => f.message)));
    const warnings = [...r.warnings, ...unbound];
    const durationMs = Math.round(performance.now() - r.started);
    logger.info(
      { trigger: r.trigger, generation, changes, needsRestart: diff.needsRestart, warnings, acknowledged, pending, durationMs },
      'configuration reloaded',
    );
    if (!r.all) logger.warn({ generation, pending }, 'some workers did not acknowledge the new configuration in time');
    return { accepted: true, generation, errors: [], warnings, changes, needsRestart: diff.needsRestart, acknowledged, pending };
  }

  #refused(errors: string[], warnings: string[] = []): ReloadResult {
    return { accepted: false, generation: this.#p.owner.generation, errors, warnings, changes: [], needsRestart: [], acknowledged: [], pending: [] };
  }
}

/** Global settings that cannot change while running keep their value; the diff reports them. */
function keepRestartOnly(old: ResolvedConfig, next: ResolvedConfig): ResolvedConfig {
  return deepFreeze({
    ...next,
    global: { ...next.global, workers: old.global.workers, adminSocket: old.global.adminSocket, metrics: old.global.metrics, logFormat: old.global.logFormat },
  });
}
