import type { AdminState, BackendConfig, HealthCheckSettings, Topology } from '@rustlb/core';
import { formatHostPort, serverKey } from '@rustlb/core';

/** One server of the live table: where it is and which configured entry it came from. */
export interface Member {
  readonly key: string;
  readonly backend: string;
  readonly address: string;
  readonly host: string;
  readonly port: number;
  readonly weight: number;
  /** The configured address (a host name for DNS-resolved members). */
  readonly configured: string;
}

/**
 * Members of every backend: the configured IP addresses, and for host names what DNS
 * last answered. Same address twice in one backend (two names resolving alike) is one
 * member.
 */
export class Membership {
  /** backend → configured address → resolved IPs (for names). */
  readonly #resolved = new Map<string, Map<string, readonly string[]>>();

  setResolved(backend: string, configured: string, ips: readonly string[]): boolean {
    let byName = this.#resolved.get(backend);
    if (byName === undefined) {
      byName = new Map();
      this.#resolved.set(backend, byName);
    }
    const before = byName.get(configured);
    const same = before !== undefined && before.length === ips.length && before.every((ip, i) => ip === ips[i]);
    byName.set(configured, ips);
    return !same;
  }

  resolvedOf(backend: string, configured: string): readonly string[] | undefined {
    return this.#resolved.get(backend)?.get(configured);
  }

  members(backend: BackendConfig): Member[] {
    const out: Member[] = [];
    const seen = new Set<string>();
    for (const s of backend.servers) {
      const hosts = s.dns ? (this.resolvedOf(backend.name, s.address) ?? []) : [s.host];
      for (const host of hosts) {
        const address = s.dns ? formatHostPort({ host, port: s.port }) : s.address;
        const key = serverKey(backend.name, address);
        if (seen.has(key)) continue;
        seen.add(key);
        out.push({ key, backend: backend.name, address, host, port: s.port, weight: s.weight, configured: s.address });
      }
    }
    return out;
  }

  /** Forgets names no longer configured. */
  prune(backends: readonly BackendConfig[]): void {
    const wanted = new Map(backends.map((b) => [b.name, new Set(b.servers.filter((s) => s.dns).map((s) => s.address))]));
    for (const [backend, byName] of this.#resolved) {
      const names = wanted.get(backend);
      if (names === undefined) this.#resolved.delete(backend);
      else for (const name of byName.keys()) if (!names.has(name)) byName.delete(name);
    }
  }
}

/** What changed in the server table, in the words its log lines use. */
export type ServerTableChange =
  | { readonly kind: 'config' }
  | { readonly kind: 'dns'; readonly backend: string; readonly name: string; readonly addresses: readonly string[] }
  | {
      readonly kind: 'health';
      readonly backend: string;
      readonly address: string;
      readonly healthy: boolean;
      readonly reason: string;
      /** When the observation that decided it was made, ms since the epoch. */
      readonly at: number;
      /** For a server back up: how long it was down. */
      readonly downForMs: number | null;
      /** Healthy servers of the backend after the change. */
      readonly healthyLeft: number;
      readonly check: HealthCheckSettings;
    }
  | { readonly kind: 'admin'; readonly server: string; readonly state: AdminState };

/** One server of the table as status reports show it. */
export interface ServerRow {
  readonly member: Member;
  readonly healthy: boolean;
  readonly admin: AdminState;
  /** When it entered its current health state (or was first seen), ms since the epoch. */
  readonly since: number;
  /** Why it entered it (`health check failed: refused`, `passive: reset (3 in one report)`); null when first seen. */
  readonly sinceReason: string | null;
}

interface Row {
  member: Member;
  healthy: boolean;
  since: number;
  sinceReason: string | null;
}

/** An operator's drain/disable of one server, and the configured entry it came from. */
interface Admin {
  readonly state: Exclude<AdminState, 'enabled'>;
  readonly backend: string;
  /** The configured address that produced the server: its host name when resolved by DNS. */
  configured: string;
}

/**
 * The server table, and its one owner: which servers each backend has (from the
 * configuration and from DNS), whether each is healthy (as the health runner decides),
 * and the operator's drain/disable. Every change bumps the version and is announced,
 * synchronously, to the listeners of {@link onChanged}: the health runner (probes follow
 * membership and maintenance) and the push to the workers (which writes the log lines).
 */
export class ServerTable {
  readonly #membership = new Membership();
  #backends: readonly BackendConfig[] = [];
  /** The servers of the table now, by key (`BACKEND/ADDRESS`). */
  readonly #rows = new Map<string, Row>();
  readonly #admin = new Map<string, Admin>();
  #version = 0;
  readonly #listeners: ((change: ServerTableChange) => void)[] = [];

  onChanged(listener: (change: ServerTableChange) => void): void {
    this.#listeners.push(listener);
  }

  /** The backends of a new configuration: servers new to the table start healthy, gone ones leave it. */
  configure(backends: readonly BackendConfig[]): void {
    this.#backends = backends;
    this.#membership.prune(backends);
    this.#reconcile();
    this.#changed({ kind: 'config' });
  }

  /** What DNS last answered for a configured host name (undefined before any answer). */
  resolvedOf(backend: string, name: string): readonly string[] | undefined {
    return this.#membership.resolvedOf(backend, name);
  }

  /** DNS answered for a configured host name; nothing happens when the answer is the same. */
  setResolved(backend: string, name: string, addresses: readonly string[]): void {
    if (!this.#membership.setResolved(backend, name, addresses)) return;
    this.#reconcile();
    this.#changed({ kind: 'dns', backend, name, addresses });
  }

  /** The health runner decided a server is healthy or not; `reason` says what decided it. */
  setHealth(key: string, healthy: boolean, reason: string, at: number, check: HealthCheckSettings): void {
    const row = this.#rows.get(key);
    if (row === undefined || row.healthy === healthy) return;
    const downForMs = healthy ? at - row.since : null;
    row.healthy = healthy;
    row.since = at;
    row.sinceReason = reason;
    const { backend, address } = row.member;
    let healthyLeft = 0;
    for (const r of this.#rows.values()) if (r.member.backend === backend && r.healthy) healthyLeft++;
    this.#changed({ kind: 'health', backend, address, healthy, reason, at, downForMs, healthyLeft, check });
  }

  /** drain / disable / enable of `BACKEND/ADDRESS`; false when the table has no such server. */
  setAdmin(key: string, state: AdminState): boolean {
    const row = this.#rows.get(key);
    if (row === undefined) return false;
    if (state === 'enabled') this.#admin.delete(key);
    else this.#admin.set(key, { state, backend: row.member.backend, configured: row.member.configured });
    this.#changed({ kind: 'admin', server: key, state });
    return true;
  }

  adminOf(key: string): AdminState {
    return this.#admin.get(key)?.state ?? 'enabled';
  }

  /** The servers of every backend, in the order of the configuration (DNS members in answer order). */
  servers(): { readonly member: Member; readonly backend: BackendConfig }[] {
    return this.#backends.flatMap((backend) => this.#membership.members(backend).map((member) => ({ member, backend })));
  }

  /** The table as the workers get it. */
  topology(): Topology {
    const backends: Record<string, Topology['backends'][string]> = {};
    for (const b of this.#backends) {
      backends[b.name] = this.#membership.members(b).map((m) => ({
        key: m.key,
        address: m.address,
        host: m.host,
        port: m.port,
        weight: m.weight,
        healthy: this.#rows.get(m.key)?.healthy ?? true,
        admin: this.adminOf(m.key),
      }));
    }
    return { version: this.#version, backends };
  }

  /** Every server with its health and operator state, in the order of the configuration. */
  rows(): ServerRow[] {
    return this.servers().flatMap(({ member }) => {
      const row = this.#rows.get(member.key);
      return row === undefined ? [] : [{ member, healthy: row.healthy, admin: this.adminOf(member.key), since: row.since, sinceReason: row.sinceReason }];
    });
  }

  /** Membership now: new servers get a row (healthy, seen now), gone ones lose theirs. */
  #reconcile(): void {
    const wanted = new Map(this.servers().map(({ member }) => [member.key, member]));
    for (const key of this.#rows.keys()) if (!wanted.has(key)) this.#rows.delete(key);
    for (const [key, member] of wanted) {
      const row = this.#rows.get(key);
      if (row === undefined) this.#rows.set(key, { member, healthy: true, since: Date.now(), sinceReason: null });
      else row.member = member;
    }
    this.#pruneAdmin(wanted);
  }

  /**
   * Forgets the drain/disable of servers gone from the configuration, so one removed by a
   * reload and added again later comes back enabled. An address found by DNS is the
   * configured host name's: its state is kept while that name stays in the backend, even
   * while the address is missing from the answers (a pod not ready for a while, a DNS
   * server that answers with a subset of the addresses), and forgotten with the name.
   */
  #pruneAdmin(wanted: ReadonlyMap<string, Member>): void {
    for (const [key, a] of this.#admin) {
      const m = wanted.get(key);
      if (m !== undefined) {
        // Two names of one backend can resolve to the same address: it follows whichever
        // produces it now.
        a.configured = m.configured;
        continue;
      }
      const named = this.#backends.find((b) => b.name === a.backend)?.servers.some((s) => s.dns && s.address === a.configured) ?? false;
      if (!named) this.#admin.delete(key);
    }
  }

  #changed(change: ServerTableChange): void {
    this.#version++;
    for (const listener of this.#listeners) listener(change);
  }
}
