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
  /** HTTP requests answered after this server was picked (rustlb_server_requests_total; TCP sessions are not requests). */
  readonly requests?: number;
  /** Failures the workers saw on real traffic (refused, reset, timeouts), since the server was first seen. */
  readonly passiveFailures?: number;
  /** Failed active health checks, since the server was first seen. */
  readonly activeFailures?: number;
  /** When it last became healthy or unhealthy (or was first seen), ISO 8601. */
  readonly lastChange?: string;
  /** Why it last changed (`health check failed: refused`, `passive: reset (3 in one report)`); null when it never changed. */
  readonly lastChangeReason?: string | null;
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
    /** TLS is terminated on this frontend (`frontends[].tls`). */
    readonly tls: boolean;
    readonly listen: string;
    readonly backend: string;
    readonly algorithm: string;
    /** Client connections open now, across workers. */
    readonly activeConnections?: number;
    /** Client connections accepted (TCP: sessions). */
    readonly connections?: number;
    /** HTTP requests answered; null for a TCP frontend. */
    readonly requests?: number | null;
  }[];
  readonly backends: readonly { readonly name: string; readonly servers: readonly ServerStatusLine[] }[];
  /** The certificates of TLS frontends in force (what, until when, from which file; never a key). */
  readonly certificates: readonly CertificateStatus[];
}

export interface CertificateStatus {
  readonly frontend: string;
  /** DNS names it covers (subjectAltName DNS, else CN), lower-cased. */
  readonly names: readonly string[];
  /** End of validity, ISO 8601. */
  readonly notAfter: string;
  /** SHA-256 fingerprint, `AB:CD:…`. */
  readonly fingerprint: string;
  /** The certificate file (absolute). */
  readonly file: string;
}
