import type { ResolvedConfig } from '@rustlb/core';
import { METRIC } from '@rustlb/telemetry';
import { Counter, Gauge, Registry } from 'prom-client';

/** Metrics only the primary knows: health, process usage, fleet and config events. */
export class PrimaryMetrics {
  readonly registry = new Registry();
  readonly backendHealth = new Gauge({
    name: METRIC.backendHealth,
    help: 'Whether a server takes traffic (1) or not (0), as decided by health checks.',
    labelNames: ['backend', 'server'],
    registers: [this.registry],
  });
  readonly healthChecks = new Counter({
    name: METRIC.healthChecks,
    help: 'Active health check probes, by result.',
    labelNames: ['backend', 'server', 'result'],
    registers: [this.registry],
  });
  readonly cpu = new Gauge({
    name: METRIC.processCpu,
    help: 'CPU use of each rustlb process, in percent of one core (pidusage).',
    labelNames: ['role', 'worker'],
    registers: [this.registry],
  });
  readonly memory = new Gauge({
    name: METRIC.processMemory,
    help: 'Resident memory of each rustlb process, in bytes (pidusage).',
    labelNames: ['role', 'worker'],
    registers: [this.registry],
  });
  readonly workerRestarts = new Counter({
    name: METRIC.workerRestarts,
    help: 'Workers replaced after exiting unexpectedly.',
    registers: [this.registry],
  });
  readonly reloads = new Counter({
    name: METRIC.configReloads,
    help: 'Configuration reloads, by result.',
    labelNames: ['result'],
    registers: [this.registry],
  });
  readonly generation = new Gauge({
    name: METRIC.configGeneration,
    help: 'Generation of the configuration in force (1 at start, +1 per accepted reload).',
    registers: [this.registry],
  });
  readonly lastReload = new Gauge({
    name: METRIC.configLastReload,
    help: 'Time of the last successful configuration load, in seconds since the epoch.',
    registers: [this.registry],
  });
  readonly scrapeErrors = new Counter({
    name: METRIC.scrapeErrors,
    help: 'Workers that did not answer a metrics collection in time (their last report was used).',
    registers: [this.registry],
  });

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
