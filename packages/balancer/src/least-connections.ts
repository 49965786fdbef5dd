import { type Balancer, type BalancerOptions, type Candidate, eligible } from './balancer.js';

/**
 * Fewest in-flight requests/sessions relative to weight, counted across the whole
 * cluster (this worker's exact count plus the other workers' counts as last pushed by
 * the primary). Ties rotate: the scan starts just after the server picked last, so
 * servers with equal load take turns, evenly, whatever sits between them.
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
    let best = -1;
    let bestLoad = 0;
    let bestWeight = 1;
    let at = this.#start;
    for (let i = 0; i < n; i++) {
      const s = servers[at] as Candidate;
      if (eligible(s, avoid)) {
        const load = s.localActive + s.remoteActive;
        // load/weight < bestLoad/bestWeight, without dividing.
        if (best < 0 || load * bestWeight < bestLoad * s.weight) {
          best = at;
          bestLoad = load;
          bestWeight = s.weight;
        }
      }
      at = at + 1 === n ? 0 : at + 1;
    }
    if (best < 0) return null;
    this.#start = best + 1 === n ? 0 : best + 1;
    return servers[best] as Candidate;
  }
}
