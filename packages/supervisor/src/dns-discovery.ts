import { promises as dns } from 'node:dns';
import { formatHostPort, type HostPort, type ResolvedConfig } from '@rustlb/core';
import type { Logger } from '@rustlb/telemetry';
import type { ServerTable } from './server-table.js';

/** No data for a name (NXDOMAIN, or no record of a type): an answer, "zero servers". */
const NO_ANSWER = new Set(['ENOTFOUND', 'ENODATA', 'NXDOMAIN', 'ENONAME']);

interface Lookup {
  readonly backend: string;
  readonly name: string;
  readonly host: string;
  timer: NodeJS.Timeout | null;
}

/**
 * Resolves the host names of backend servers in the primary, at start and every
 * `resolve_interval` (the TTL does not change it), into the server table: every address
 * becomes a server (a Kubernetes headless Service). SERVFAIL or a timeout keeps the last addresses;
 * NXDOMAIN or an empty answer means zero servers.
 */
export class DnsDiscovery {
  readonly #logger: Logger;
  readonly #table: ServerTable;
  #resolver: dns.Resolver | null = null;
  readonly #lookups = new Map<string, Lookup>();
  #stopped = false;

  constructor(logger: Logger, table: ServerTable) {
    this.#logger = logger;
    this.#table = table;
  }

  /** Sets the lookups of a configuration; resolves the new ones before returning. */
  async configure(config: ResolvedConfig): Promise<void> {
    this.#resolver = config.global.resolvers.length === 0 ? null : makeResolver(config.global.resolvers);
    const wanted = new Map<string, { backend: string; name: string; host: string; interval: number }>();
    for (const b of config.backends) {
      for (const s of b.servers)
        if (s.dns) wanted.set(`${b.name}\n${s.address}`, { backend: b.name, name: s.address, host: s.host, interval: b.resolveIntervalMs });
    }
    for (const [id, l] of this.#lookups) {
      if (!wanted.has(id)) {
        if (l.timer !== null) clearTimeout(l.timer);
        this.#lookups.delete(id);
      }
    }
    const fresh: Promise<void>[] = [];
    for (const [id, w] of wanted) {
      const old = this.#lookups.get(id);
      if (old?.timer != null) clearTimeout(old.timer);
      const lookup: Lookup = { backend: w.backend, name: w.name, host: w.host, timer: null };
      this.#lookups.set(id, lookup);
      const run = async (): Promise<void> => {
        await this.#resolve(lookup);
        if (this.#stopped || this.#lookups.get(id) !== lookup) return;
        lookup.timer = setTimeout(() => void run(), w.interval);
        lookup.timer.unref();
      };
      // Known names keep their addresses while re-resolving; new ones are resolved now.
      if (old === undefined) fresh.push(run());
      else void run();
    }
    await Promise.all(fresh);
  }

  async #resolve(l: Lookup): Promise<void> {
    let ips: string[];
    try {
      ips = await this.#addresses(l.host);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      const kept = this.#table.resolvedOf(l.backend, l.name);
      this.#logger.warn({ backend: l.backend, server: l.name, code, kept: kept ?? [] }, 'DNS lookup failed; keeping the last known addresses');
      return;
    }
    ips.sort();
    // The table announces a change, and its push to the workers writes the log line.
    this.#table.setResolved(l.backend, l.name, ips);
  }

  async #addresses(host: string): Promise<string[]> {
    const resolver = this.#resolver;
    if (resolver === null) {
      try {
        return [...new Set((await dns.lookup(host, { all: true })).map((a) => a.address))];
      } catch (err) {
        if (NO_ANSWER.has((err as NodeJS.ErrnoException).code ?? '')) return [];
        throw err;
      }
    }
    const answers = await Promise.allSettled([resolver.resolve4(host), resolver.resolve6(host)]);
    const out: string[] = [];
    let failure: unknown = null;
    for (const a of answers) {
      if (a.status === 'fulfilled') out.push(...a.value);
      else if (!NO_ANSWER.has((a.reason as NodeJS.ErrnoException).code ?? '')) failure = a.reason;
    }
    // One family failing (SERVFAIL, timeout) makes the whole answer unknown: keep the last one.
    if (failure !== null) throw failure;
    return out;
  }

  stop(): void {
    this.#stopped = true;
    for (const l of this.#lookups.values()) if (l.timer !== null) clearTimeout(l.timer);
  }
}

function makeResolver(servers: readonly HostPort[]): dns.Resolver {
  const r = new dns.Resolver({ timeout: 2000, tries: 2 });
  r.setServers(servers.map((s) => formatHostPort(s)));
  return r;
}
