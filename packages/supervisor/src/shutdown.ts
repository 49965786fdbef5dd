import type { Logger } from '@rustlb/telemetry';
import type { AdminHttp } from './admin-http.js';
import type { ConfigOwner } from './config-owner.js';
import type { ControlServer } from './control/server.js';
import type { DnsDiscovery } from './dns-discovery.js';
import type { Fleet } from './fleet.js';
import type { HealthRunner } from './health-runner.js';
import type { Phase } from './phase.js';
import type { Readiness } from './readiness.js';

export interface ShutdownParts {
  readonly owner: ConfigOwner;
  readonly fleet: Fleet;
  readonly dns: DnsDiscovery;
  readonly health: HealthRunner;
  readonly admin: AdminHttp;
  readonly control: ControlServer;
  readonly readiness: Readiness;
  readonly phase: Phase;
  readonly logger: Logger;
  readonly startedAt: number;
}

/**
 * SIGTERM/SIGINT, step by step: draining (`/readyz` fails at once, reloads are refused,
 * waits on workers end); the file, DNS and health checks stop; every worker keeps
 * accepting for shutdown_delay with `Connection: close` on every response, then stops,
 * and has shutdown_timeout more for what is in flight before it is killed; then the admin
 * HTTP server and the control socket close. Resolves when all is down; a second call
 * does nothing.
 */
export async function shutDown(p: ShutdownParts, signal: string): Promise<void> {
  if (p.phase.shuttingDown) return;
  const { shutdownDelayMs, shutdownTimeoutMs } = p.owner.current.global;
  p.phase.draining();
  p.logger.info({ signal, shutdownDelayMs, shutdownTimeoutMs }, 'shutting down: draining workers');
  await p.owner.stopWatching();
  p.dns.stop();
  p.health.stop();
  await p.fleet.stop(shutdownDelayMs, shutdownTimeoutMs);
  p.phase.stopped();
  p.admin.close();
  p.control.close();
  p.readiness.stop();
  p.logger.info({ uptimeSeconds: Math.round((Date.now() - p.startedAt) / 1000) }, 'rustlb stopped');
}
