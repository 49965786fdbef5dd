import type { AdminState, BackendConfig, ServerEntry, Topology } from '@rustlb/core';
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

export function entry(member: Member, healthy: boolean, admin: AdminState): ServerEntry {
  return { key: member.key, address: member.address, host: member.host, port: member.port, weight: member.weight, healthy, admin };
}

export function emptyTopology(): Topology {
  return { version: 0, backends: {} };
}
