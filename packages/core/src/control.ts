/**
 * The control socket protocol between rustlb-ctl and the primary: one JSON object per
 * line each way. A request names a command; the answer carries the same `id`.
 */

export const CONTROL_COMMANDS = ['reload', 'status', 'drain', 'enable', 'disable', 'restart-workers'] as const;
export type ControlCommand = (typeof CONTROL_COMMANDS)[number];

export interface ControlRequest {
  readonly id: number;
  readonly command: ControlCommand;
  /** `BACKEND/ADDRESS` for drain, enable and disable. */
  readonly server?: string;
}

export interface ControlError {
  readonly code: string;
  readonly message: string;
  readonly details?: unknown;
}

export type ControlResponse =
  | { readonly id: number | null; readonly ok: true; readonly result: unknown }
  | { readonly id: number | null; readonly ok: false; readonly error: ControlError };

export interface ReloadResult {
  readonly accepted: boolean;
  readonly generation: number;
  /** `path (line N): message`, when rejected. */
  readonly errors: readonly string[];
  readonly warnings: readonly string[];
  readonly changes: readonly string[];
  /** Changed settings that only apply after a restart. */
  readonly needsRestart: readonly string[];
  /** Workers that applied the generation, and those that did not in time. */
  readonly acknowledged: readonly number[];
  readonly pending: readonly number[];
}

export interface WorkerStatus {
  readonly slot: number;
  readonly pid: number;
  readonly state: string;
  readonly uptimeSeconds: number;
  readonly generation: number;
  readonly cpuPercent: number | null;
  readonly rssBytes: number | null;
  readonly activeConnections: number | null;
  readonly requests: number | null;
  readonly restarts: number;
  readonly crashLoop: boolean;
  /** How the slot's previous process ended (`signal SIGKILL`, `code 1`), if it crashed. */
  readonly lastExit?: string | null;
  /** For state `respawning`: when the replacement is forked. */
  readonly respawnInMs?: number | null;
}

export interface ServerStatusLine {
  readonly server: string;
  readonly healthy: boolean;
  readonly state: string;
  readonly weight: number;
  readonly activeRequests: number;
  readonly lastCheck: string | null;
}

export interface StatusResult {
  readonly version: string;
  readonly pid: number;
  readonly uptimeSeconds: number;
  readonly configFile: string;
  readonly generation: number;
  readonly ready: boolean;
  readonly draining: boolean;
  readonly workers: readonly WorkerStatus[];
  readonly frontends: readonly {
    readonly name: string;
    readonly protocol: string;
    readonly listen: string;
    readonly backend: string;
    readonly algorithm: string;
  }[];
  readonly backends: readonly { readonly name: string; readonly servers: readonly ServerStatusLine[] }[];
}
