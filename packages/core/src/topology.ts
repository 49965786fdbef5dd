/**
 * The live server table the primary pushes to workers: which servers each backend has
 * right now (after DNS resolution) and whether each may take traffic. Workers never
 * decide health themselves; they obey this table.
 */

/** Runtime state an operator sets with rustlb-ctl (HAProxy's ready/drain/maint). */
export type AdminState = 'enabled' | 'drain' | 'disabled';

export interface ServerEntry {
  /** `BACKEND/ADDRESS`, the name operators use (`web/10.0.0.1:80`). */
  readonly key: string;
  /** `host:port` as configured, or `ip:port` for a DNS-resolved address. */
  readonly address: string;
  readonly host: string;
  readonly port: number;
  readonly weight: number;
  /** Decided by the primary: health checks, passive failures and cooldown. */
  readonly healthy: boolean;
  readonly admin: AdminState;
}

export interface Topology {
  /** Increases with every change, so a worker can ignore a stale push. */
  readonly version: number;
  readonly backends: Readonly<Record<string, readonly ServerEntry[]>>;
}

export function serverKey(backend: string, address: string): string {
  return `${backend}/${address}`;
}

/** A server takes new work only when healthy and enabled. */
export function isServerAvailable(entry: Pick<ServerEntry, 'healthy' | 'admin'>): boolean {
  return entry.healthy && entry.admin === 'enabled';
}
