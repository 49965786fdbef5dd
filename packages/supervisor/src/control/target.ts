import type { ControlRequest, StatusResult } from '@rustlb/core';
import type { Reloads } from '../reload.js';
import type { RollingRestart } from '../rolling-restart.js';
import type { ServerTable } from '../server-table.js';

/** The parts of the running daemon the control commands act on. */
export interface ControlTarget {
  readonly reloads: Reloads;
  readonly rollingRestart: RollingRestart;
  readonly servers: ServerTable;
  /** `rustlb-ctl status`: measured now. */
  status(): Promise<StatusResult>;
}

export interface RestartResult {
  /** Slots replaced, in order. */
  readonly restarted: readonly number[];
  readonly replaced: readonly { readonly slot: number; readonly oldPid: number; readonly newPid: number }[];
}

export type CommandHandler = (target: ControlTarget, request: ControlRequest) => Promise<unknown>;
