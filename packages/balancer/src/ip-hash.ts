import { type Balancer, type Candidate, eligible } from './balancer.js';
import { clientHash } from './client-hash.js';
import { hash32, mix32 } from './hash.js';

/**
 * Points per unit of weight on the ring. Ketama's 160 leaves one server of five owning
 * up to ~25% of clients; 500 keeps every share within a few points of 1/N, so removing
 * one of N servers moves about 1/N of clients, as promised.
 */
const POINTS_PER_WEIGHT = 500;
/** Bounds the ring (and its build time) for large or heavily weighted pools. */
const MAX_POINTS = 160_000;
/** Room for the entry number below the hash in a packed point (see the constructor). */
const ENTRY_SPACE = 2 ** 21;

/**
 * Consistent hashing of the client IP on a ketama-style ring. Each server owns points
 * derived from its key alone, so every worker builds the same ring and removing one of
 * N servers moves only that server's clients (about 1/N). A client whose server cannot
 * take work walks on to the next server on the ring, and returns when it recovers.
 * IPv4-mapped IPv6 addresses hash as the IPv4 address they carry (see clientHash).
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
    // Points are laid out in server key order, and equal hashes (rare) keep that order,
    // so the ring does not depend on the order of the server table.
    const order = servers.map((_, i) => i).sort((a, b) => compareKeys((servers[a] as Candidate).key, (servers[b] as Candidate).key));
    const counts = servers.map((s) => Math.max(1, Math.round(s.weight * POINTS_PER_WEIGHT * scale)));
    const total = counts.reduce((sum, c) => sum + c, 0);
    // Each point packed as hash·2^21 + entry number in one float (exact below 2^53): one
    // numeric typed-array sort, instead of a comparator over 160,000 tuples (seconds).
    const packed = new Float64Array(total);
    const entryOwner = new Uint32Array(total);
    let entry = 0;
    for (const index of order) {
      // Points from the key's hash and the point number, without building a string per point.
      const base = hash32((servers[index] as Candidate).key);
      for (let k = 0; k < (counts[index] as number); k++) {
        packed[entry] = mix32((base + Math.imul(k, 0x9e3779b9)) | 0) * ENTRY_SPACE + entry;
        entryOwner[entry] = index;
        entry++;
      }
    }
    packed.sort();
    this.#points = new Uint32Array(total);
    this.#owner = new Uint32Array(total);
    for (let i = 0; i < total; i++) {
      const v = packed[i] as number;
      const e = v % ENTRY_SPACE;
      this.#points[i] = (v - e) / ENTRY_SPACE;
      this.#owner[i] = entryOwner[e] as number;
    }
  }

  pick(clientIp: string, avoid: ReadonlySet<Candidate> | null): Candidate | null {
    const points = this.#points;
    const n = points.length;
    if (n === 0) return null;
    const h = clientHash(clientIp);
    // First point at or after h, wrapping around.
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((points[mid] as number) < h) lo = mid + 1;
      else hi = mid;
    }
    if (lo === n) lo = 0;
    const servers = this.#servers;
    const owner = this.#owner;
    const first = servers[owner[lo] as number] as Candidate;
    if (eligible(first, avoid)) return first;
    // The walk below may cross the whole ring; make sure it has somewhere to end.
    if (!servers.some((s) => eligible(s, avoid))) return null;
    for (let i = lo + 1; ; i++) {
      if (i === n) i = 0;
      const s = servers[owner[i] as number] as Candidate;
      if (eligible(s, avoid)) return s;
    }
  }
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
