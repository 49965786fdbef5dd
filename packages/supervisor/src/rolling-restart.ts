import { RustlbError } from '@rustlb/core';
import type { Logger } from '@rustlb/telemetry';
import type { ConfigOwner } from './config-owner.js';
import type { RestartResult } from './control/target.js';
import type { Fleet } from './fleet.js';
import type { Phase } from './phase.js';
import { STARTUP_TIMEOUT_MS } from './startup.js';

/**
 * `rustlb-ctl restart-workers`: replaces every worker, one at a time. For each:
 *
 * 1. fork its replacement in the same slot;
 * 2. wait until the replacement has applied the configuration (it listens on every
 *    frontend), or give up and keep the old one;
 * 3. retire the old one: it stops accepting at once, finishes what it has (long-lived
 *    tunnels included) and is killed at shutdown_timeout.
 *
 * At no moment is a slot without a listening worker.
 */
export class RollingRestart {
  readonly #fleet: Fleet;
  readonly #owner: ConfigOwner;
  readonly #phase: Phase;
  readonly #logger: Logger;
  #running = false;

  constructor(fleet: Fleet, owner: ConfigOwner, phase: Phase, logger: Logger) {
    this.#fleet = fleet;
    this.#owner = owner;
    this.#phase = phase;
    this.#logger = logger;
  }

  async run(): Promise<RestartResult> {
    if (this.#phase.now !== 'running') throw new RustlbError('RLB_ERR_CONTROL_REFUSED', `cannot restart workers while ${this.#phase.now}`);
    if (this.#running) throw new RustlbError('RLB_ERR_CONTROL_REFUSED', 'a rolling restart is already in progress');
    this.#running = true;
    try {
      return await this.#replaceAll();
    } finally {
      this.#running = false;
    }
  }

  async #replaceAll(): Promise<RestartResult> {
    const fleet = this.#fleet;
    const replaced: { slot: number; oldPid: number; newPid: number }[] = [];
    const timeout = this.#owner.current.global.shutdownTimeoutMs;
    for (const old of fleet.live().filter((r) => r.state === 'ready')) {
      if (this.#phase.now !== 'running') break;
      // It may have crashed (and been respawned) while earlier slots were being replaced.
      if (!old.live || old.state !== 'ready') continue;
      const fresh = fleet.fork(old.slot, true);
      const up = await fleet.waitUntil(() => fresh.state === 'ready' || !fresh.live, STARTUP_TIMEOUT_MS, this.#phase.stopping);
      if (this.#phase.now !== 'running') break;
      if (!up || fresh.state !== 'ready') {
        if (fresh.live) fleet.retire(fresh, 0, 0, 'replacement did not start in time');
        throw new RustlbError(
          'RLB_ERR_CONTROL_REFUSED',
          `the replacement for worker ${old.slot} did not start${fresh.live ? ' in time' : ''}; worker ${old.slot} (pid ${old.pid}) keeps serving`,
          { details: { replaced } },
        );
      }
      fleet.retire(old, 0, timeout, 'rolling restart');
      replaced.push({ slot: old.slot, oldPid: old.pid, newPid: fresh.pid });
      this.#logger.info({ worker: old.slot, old: old.pid, new: fresh.pid }, 'worker replaced (rolling restart)');
    }
    return { restarted: replaced.map((r) => r.slot), replaced };
  }
}
