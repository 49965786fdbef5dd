import { type Balancer, type BalancerOptions, type Candidate, eligible } from './balancer.js';

/**
 * nginx's smooth weighted round robin: every pick adds each eligible server's weight
 * to its running score, takes the highest score and subtracts the total from it.
 * Weights 5:3:2 give exactly 5, 3 and 2 picks in every window of 10, interleaved
 * (a b c a a b a c b a), never a burst of five.
 *
 * Unlike nginx, the scores restart whenever a server becomes available or unavailable:
 * scores frozen while a server was out would otherwise leave the others unbalanced, and
 * one of them would take a burst of up to total/weight picks in a row until they level.
 */
export class WeightedRoundRobin implements Balancer {
  readonly algorithm = 'weighted' as const;
  readonly #servers: readonly Candidate[];
  readonly #offset: number;
  readonly #score: Float64Array;
  /** Availability the scores were built for (1 = available). */
  readonly #up: Uint8Array;

  constructor(servers: readonly Candidate[], options: BalancerOptions) {
    this.#servers = servers;
    this.#offset = options.offset;
    this.#score = new Float64Array(servers.length);
    this.#up = new Uint8Array(servers.length);
    this.#restart();
  }

  pick(_clientIp: string, avoid: ReadonlySet<Candidate> | null): Candidate | null {
    const picked = this.#step(avoid);
    if (picked !== undefined) return picked;
    // Availability changed: that step is void, start a clean cycle.
    this.#restart();
    return this.#step(avoid) ?? null;
  }

  /** Zero scores, then each worker starts at its own point of the same cycle (see BalancerOptions). */
  #restart(): void {
    const servers = this.#servers;
    this.#score.fill(0);
    let total = 0;
    for (let i = 0; i < servers.length; i++) {
      const s = servers[i] as Candidate;
      this.#up[i] = s.available ? 1 : 0;
      if (s.available) total += s.weight;
    }
    const skip = total === 0 ? 0 : this.#offset % total;
    for (let i = 0; i < skip; i++) this.#step(null);
  }

  /** One pick; undefined when a server's availability differs from what the scores were built for. */
  #step(avoid: ReadonlySet<Candidate> | null): Candidate | null | undefined {
    const servers = this.#servers;
    const score = this.#score;
    const up = this.#up;
    let best = -1;
    let total = 0;
    let changed = false;
    for (let i = 0; i < servers.length; i++) {
      const s = servers[i] as Candidate;
      if ((s.available ? 1 : 0) !== up[i]) changed = true;
      if (!eligible(s, avoid)) continue;
      score[i] = (score[i] as number) + s.weight;
      total += s.weight;
      if (best < 0 || (score[i] as number) > (score[best] as number)) best = i;
    }
    if (changed) return undefined;
    if (best < 0) return null;
    score[best] = (score[best] as number) - total;
    return servers[best] as Candidate;
  }
}
