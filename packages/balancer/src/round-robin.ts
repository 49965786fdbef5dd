import { type Balancer, type BalancerOptions, type Candidate, eligible } from './balancer.js';

/** Even rotation; skips servers that cannot take work. */
export class RoundRobin implements Balancer {
  readonly algorithm = 'round_robin' as const;
  readonly #servers: readonly Candidate[];
  #next: number;

  constructor(servers: readonly Candidate[], options: BalancerOptions) {
    this.#servers = servers;
    this.#next = servers.length === 0 ? 0 : options.offset % servers.length;
  }

  pick(_clientIp: string, avoid: ReadonlySet<Candidate> | null): Candidate | null {
    const servers = this.#servers;
    const n = servers.length;
    for (let tried = 0; tried < n; tried++) {
      const s = servers[this.#next] as Candidate;
      this.#next = this.#next + 1 === n ? 0 : this.#next + 1;
      if (eligible(s, avoid)) return s;
    }
    return null;
  }
}
