import { type Balancer, type BalancerOptions, type Candidate, eligible } from './balancer.js';

/**
 * nginx's smooth weighted round robin: every pick adds each eligible server's weight
 * to its running score, takes the highest score and subtracts the total from it.
 * Weights 5:3:2 give exactly 5, 3 and 2 picks in every window of 10, interleaved
 * (a b a c a b a c b a), never a burst of five.
 */
export class WeightedRoundRobin implements Balancer {
  readonly algorithm = 'weighted' as const;
  readonly #servers: readonly Candidate[];
  readonly #score: Float64Array;

  constructor(servers: readonly Candidate[], options: BalancerOptions) {
    this.#servers = servers;
    this.#score = new Float64Array(servers.length);
    // Each worker starts at a different point of the same cycle (see BalancerOptions).
    const total = servers.reduce((sum, s) => sum + s.weight, 0);
    const skip = total === 0 ? 0 : options.offset % total;
    for (let i = 0; i < skip; i++) this.#advance(null, true);
  }

  pick(_clientIp: string, avoid: ReadonlySet<Candidate> | null): Candidate | null {
    return this.#advance(avoid, false);
  }

  #advance(avoid: ReadonlySet<Candidate> | null, ignoreHealth: boolean): Candidate | null {
    const servers = this.#servers;
    const score = this.#score;
    let best = -1;
    let total = 0;
    for (let i = 0; i < servers.length; i++) {
      const s = servers[i] as Candidate;
      if (!ignoreHealth && !eligible(s, avoid)) continue;
      score[i] = (score[i] as number) + s.weight;
      total += s.weight;
      if (best < 0 || (score[i] as number) > (score[best] as number)) best = i;
    }
    if (best < 0) return null;
    score[best] = (score[best] as number) - total;
    return servers[best] as Candidate;
  }
}
