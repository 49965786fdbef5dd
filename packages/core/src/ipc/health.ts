import type { Topology } from '../topology.js';

/** Primary → worker: the server table changed (health, admin state, DNS membership). */
export interface TopologyPush {
  readonly kind: 'topology';
  readonly topology: Topology;
}

/** What a worker saw go wrong talking to a server (passive health). */
export type PassiveFailureReason = 'refused' | 'connect-timeout' | 'reset' | 'response-timeout' | 'tls';

export interface PassiveFailure {
  readonly key: string;
  readonly reason: PassiveFailureReason;
  /** How many times in this batch. */
  readonly count: number;
}

/** Worker → primary: passive failures, batched (one message per flush, not per request). */
export interface PassiveReport {
  readonly kind: 'passive';
  readonly failures: readonly PassiveFailure[];
  /** Servers that answered well since the last batch (resets consecutive failure counts). */
  readonly successes: readonly string[];
}

/** Worker → primary: this worker's in-flight requests/sessions per server key. */
export interface ConnCounts {
  readonly kind: 'conn-counts';
  readonly counts: Readonly<Record<string, number>>;
}

/** Primary → worker: in-flight counts of every *other* worker, for least_connections. */
export interface ConnView {
  readonly kind: 'conn-view';
  readonly counts: Readonly<Record<string, number>>;
}
