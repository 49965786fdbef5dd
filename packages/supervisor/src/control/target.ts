import type { AdminState, ControlRequest, ReloadResult, StatusResult } from '@rustlb/core';

/** What the control commands may ask of the running daemon. */
export interface ControlTarget {
  reload(trigger: string): Promise<ReloadResult>;
  status(): Promise<StatusResult>;
  /** Throws RLB_ERR_CONTROL_REFUSED for an unknown server. */
  setServerState(server: string, state: AdminState): void;
  restartWorkers(): Promise<RestartResult>;
}

export interface RestartResult {
  /** Slots replaced, in order. */
  readonly restarted: readonly number[];
  readonly replaced: readonly { readonly slot: number; readonly oldPid: number; readonly newPid: number }[];
}

export type CommandHandler = (target: ControlTarget, request: ControlRequest) => Promise<unknown>;
