import { normalizeIp } from '@rustlb/core';
import { type Balancer, type Candidate, eligible } from './balancer.js';
import { hash32 } from './hash.js';

/** Points per unit of weight on the ring (ketama uses 160 per server). */
const POINTS_PER_WEIGHT = 160;
const MAX_POINTS = 160_000;

/**
 * Consistent hashing of the client IP on a ketama-style ring. Each server owns points
 * derived from its key alone, so every worker builds the same ring and removing one of
 * N servers moves only that server's clients (about 1/N). A client whose server cannot
 * take work walks on to the next server on the ring, and returns when it recovers.
 * IPv4-mapped IPv6 addresses hash as the IPv4 address they carry.
 */
export class IpHash implements Balancer {
  readonly algorithm = 'ip_hash' as const;
  readonly #servers: readonly Candidate[];
  readonly #points: Uint32Array;
  readonly #owner: Uint32Array;

  constructor(servers: readonly Candidate[]) {
    this.#servers = servers;
    const totalWeight = servers.reduce((sum, s) => sum + s.weight, 0);
    const scale = totalWeight * POINTS_PER_WEIGHT > MAX_POINTS ? MAX_POINTS / (totalWeight * POINTS_PER_WEIGHT) : 1;
    const entries: [number, number][] = [];
    servers.forEach((s, index) => {
      const count = Math.max(1, Math.round(s.weight * POINTS_PER_WEIGHT * scale));
      for (let k = 0; k < count; k++) entries.push([hash32(`${s.key}#${k}`), index]);
    });
    // Ties (rare) are broken by server key order, so the ring is the same everywhere.
    entries.sort((a, b) => a[0] - b[0] || ((servers[a[1]] as Candidate).key < (servers[b[1]] as Candidate).key ? -1 : 1));
    this.#points = Uint32Array.from(entries, (e) => e[0]);
    this.#owner = Uint32Array.from(entries, (e) => e[1]);
  }

  pick(clientIp: string, avoid: ReadonlySet<Candidate> | null): Candidate | null {
    const points = this.#points;
    const n = points.length;
    if (n === 0) return null;
    const h = hash32(normalizeIp(clientIp));
    // First point at or after h, wrapping around.
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((points[mid] as number) < h) lo = mid + 1;
      else hi = mid;
    }
    const servers = this.#servers;
    const owner = this.#owner;
    for (let i = 0; i < n; i++) {
      const s = servers[owner[(lo + i) % n] as number] as Candidate;
      if (eligible(s, avoid)) return s;
    }
    return null;
  }
}
