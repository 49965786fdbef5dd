import type { ResolvedConfig } from '@rustlb/core';
import { METRIC } from '@rustlb/telemetry';
import { Counter, Gauge, Registry } from 'prom-client';

function gauge<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
  return new Gauge({ name, help, labelNames, registers: [registry] });
}

function counter<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
  return new Counter({ name, help, labelNames, registers: [registry] });
}

/** Metrics only the primary knows: health, process usage, fleet and config events. */
export class PrimaryMetrics {
  readonly registry = new Registry();
  readonly backendHealth = gauge(this.registry, METRIC.backendHealth, 'Whether a server takes traffic (1) or not (0), as decided by health checks.', [
    'backend',
    'server',
  ]);
  readonly healthChecks = counter(this.registry, METRIC.healthChecks, 'Active health check probes, by result.', ['backend', 'server', 'result']);
  readonly cpu = gauge(this.registry, METRIC.processCpu, 'CPU use of each rustlb process, in percent of one core (pidusage).', ['role', 'worker']);
  readonly memory = gauge(this.registry, METRIC.processMemory, 'Resident memory of each rustlb process, in bytes (pidusage).', ['role', 'worker']);
  readonly workerRestarts = counter(this.registry, METRIC.workerRestarts, 'Workers replaced after exiting unexpectedly.');
  readonly reloads = counter(this.registry, METRIC.configReloads, 'Configuration reloads, by result.', ['result']);
  readonly generation = gauge(this.registry, METRIC.configGeneration, 'Generation of the configuration in force (1 at start, +1 per accepted reload).');
  readonly lastReload = gauge(this.registry, METRIC.configLastReload, 'Time of the last successful configuration load, in seconds since the epoch.');
  readonly scrapeErrors = counter(this.registry, METRIC.scrapeErrors, 'Workers that did not answer a metrics collection in time (their last report was used).');

  /** Registered only while some frontend has TLS: without certificates the family is not served at all. */
  readonly certificateExpiry = new Gauge({
    name: METRIC.tlsCertificateExpiry,
    help: "End of validity of each TLS frontend certificate in force, in seconds since the epoch (name: the certificate's first DNS name, else its CN).",
    labelNames: ['frontend', 'name'],
    registers: [],
  });

  constructor() {
    this.reloads.labels('success').inc(0);
    this.reloads.labels('failure').inc(0);
  }

  /** The certificates of the configuration in force (at start and after each accepted reload). */
  setCertificates(config: ResolvedConfig): void {
    this.certificateExpiry.reset();
    let any = false;
    for (const f of config.frontends) {
      for (const [i, c] of (f.tls?.certificates ?? []).entries()) {
        any = true;
        // A certificate without a DNS name still shows, under its position.
        this.certificateExpiry.labels(f.name, c.names[0] ?? `#${i + 1}`).set(Math.floor(c.notAfterMs / 1000));
      }
    }
    const registered = this.registry.getSingleMetric(METRIC.tlsCertificateExpiry) !== undefined;
    if (any && !registered) this.registry.registerMetric(this.certificateExpiry);
    else if (!any && registered) this.registry.removeSingleMetric(METRIC.tlsCertificateExpiry);
  }
}
