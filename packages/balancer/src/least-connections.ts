import { type Balancer, type BalancerOptions, type Candidate, eligible } from './balancer.js';

/**
 * Fewest in-flight requests/sessions relative to weight, counted across the whole
 * cluster (this worker's exact count plus the other workers' counts as last pushed by
 * the primary). Ties rotate, so idle servers share new work evenly.
 */
export class LeastConnections implements Balancer {
  readonly algorithm = 'least_connections' as const;
  readonly #servers: readonly Candidate[];
  #start: number;

  constructor(servers: readonly Candidate[], options: BalancerOptions) {
    this.#servers = servers;
    this.#start = servers.length === 0 ? 0 : options.offset % servers.length;
  }

  pick(_clientIp: string, avoid: ReadonlySet<Candidate> | null): Candidate | null {
    const servers = this.#servers;
    const n = servers.length;
    let best: Candidate | null = null;
    let bestLoad = 0;
    let at = this.#start;
    for (let i = 0; i < n; i++) {
      const s = servers[at] as Candidate;
      at = at + 1 === n ? 0 : at + 1;
      if (!eligible(s, avoid)) continue;
      const load = s.localActive + s.remoteActive;
      // load/weight < bestLoad/bestWeight, without dividing.
      if (best === null || load * best.weight < bestLoad * s.weight) {
        best = s;
        bestLoad = load;
      }
    }
    this.#start = this.#start + 1 >= n ? 0 : this.#start + 1;
    return best;
  }
}
