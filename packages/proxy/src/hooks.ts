import type { PassiveFailureReason } from '@rustlb/core/ipc';
import type { ServerSlot } from './server-slot.js';

/**
 * What the data plane tells its owner (the worker runtime). Calls are cheap and
 * synchronous; the owner batches them before anything crosses the IPC channel.
 */
export interface ProxyHooks {
  /** A server failed in a way that counts against its health. */
  passiveFailure(slot: ServerSlot, reason: PassiveFailureReason): void;
  /** A server answered (resets its consecutive passive failure count). */
  passiveSuccess(slot: ServerSlot): void;
  /** A slot's local in-flight count changed (for cluster-wide least_connections). */
  activeChanged(slot: ServerSlot): void;
}

export const NO_HOOKS: ProxyHooks = {
  passiveFailure() {},
  passiveSuccess() {},
  activeChanged() {},
};
