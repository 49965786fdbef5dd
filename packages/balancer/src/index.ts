export type { Balancer, BalancerFactory, BalancerOptions, Candidate } from './balancer.js';
export { clientHash } from './client-hash.js';
export { hash32 } from './hash.js';
export { IpHash } from './ip-hash.js';
export { LeastConnections } from './least-connections.js';
export { ALGORITHMS, createBalancer } from './registry.js';
export { RoundRobin } from './round-robin.js';
export { WeightedRoundRobin } from './weighted-round-robin.js';
