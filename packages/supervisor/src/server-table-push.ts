import type { Topology } from '@rustlb/core';
import type { Logger } from '@rustlb/telemetry';
import type { ServerTable, ServerTableChange } from './server-table.js';

/**
 * Follows the server table: once per turn of the event loop with changes, sends the table
 * to the workers, then writes the log line of each change, in that order, so whoever
 * reads a line ("server is unhealthy", "DNS addresses changed") can rely on every worker
 * having been sent the new table.
 *
 * Why a turn later, not at once: changes made together go out as one push (a passive
 * report that takes several servers down), and a reload's new configuration, which
 * carries the table too, reaches the workers before any table that names its backends.
 */
export class ServerTablePush {
  readonly #table: ServerTable;
  readonly #logger: Logger;
  readonly #send: (topology: Topology) => void;
  #pending: ServerTableChange[] = [];

  constructor(table: ServerTable, logger: Logger, send: (topology: Topology) => void) {
    this.#table = table;
    this.#logger = logger;
    this.#send = send;
    table.onChanged((change) => {
      if (this.#pending.length === 0) setImmediate(() => this.#flush());
      this.#pending.push(change);
    });
  }

  #flush(): void {
    const changes = this.#pending;
    this.#pending = [];
    this.#send(this.#table.topology());
    for (const change of changes) this.#log(change);
  }

  #log(c: ServerTableChange): void {
    const log = this.#logger;
    switch (c.kind) {
      case 'config':
        return;
      case 'dns':
        if (c.addresses.length === 0) log.warn({ backend: c.backend, server: c.name, addresses: c.addresses }, 'DNS name has no addresses: no servers for it');
        else log.info({ backend: c.backend, server: c.name, addresses: c.addresses }, 'DNS addresses changed');
        return;
      case 'admin':
        log.info({ server: c.server, state: c.state }, 'server state set by operator');
        return;
      case 'health': {
        // The line's own time is a moment later than the transition: `changedAt` is exact.
        const at = { changedAt: new Date(c.at).toISOString() };
        const { backend, address: server, reason, check } = c;
        if (!c.healthy) {
          log.warn({ backend, server, reason, unhealthyThreshold: check.unhealthyThreshold, cooldownMs: check.cooldownMs, ...at }, 'server is unhealthy');
          if (c.healthyLeft === 0) log.warn({ backend, ...at }, 'backend has no healthy server');
        } else {
          log.info({ backend, server, reason, healthyThreshold: check.healthyThreshold, downForMs: c.downForMs, ...at }, 'server is healthy again');
          if (c.healthyLeft === 1) log.info({ backend, ...at }, 'backend has a healthy server again');
        }
        return;
      }
    }
  }
}
