import type { Algorithm } from '@rustlb/core';
import type { Balancer, BalancerFactory, BalancerOptions, Candidate } from './balancer.js';
import { IpHash } from './ip-hash.js';
import { LeastConnections } from './least-connections.js';
import { RoundRobin } from './round-robin.js';
import { WeightedRoundRobin } from './weighted-round-robin.js';

/** Config name → algorithm. One file per algorithm; this table is the only switch. */
export const ALGORITHMS: Readonly<Record<Algorithm, BalancerFactory>> = {
  round_robin: (servers, options) => new RoundRobin(servers, options),
  weighted: (servers, options) => new WeightedRoundRobin(servers, options),
  least_connections: (servers, options) => new LeastConnections(servers, options),
  ip_hash: (servers) => new IpHash(servers),
};

export function createBalancer(algorithm: Algorithm, servers: readonly Candidate[], options: BalancerOptions): Balancer {
  return ALGORITHMS[algorithm](servers, options);
}
