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

  constructor() {
    this.reloads.labels('success').inc(0);
    this.reloads.labels('failure').inc(0);
  }
}
