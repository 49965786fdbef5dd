import type { ResolvedConfig } from '../config-types.js';
import type { Topology } from '../topology.js';

/** Primary → worker: a configuration generation to build and swap in. */
export interface ConfigPush {
  readonly kind: 'config';
  readonly generation: number;
  readonly config: ResolvedConfig;
  /** The server table at the time of the push, so health is known before the first accept. */
  readonly topology: Topology;
}

export interface BindFailure {
  readonly frontend: string;
  readonly address: string;
  readonly code: string;
  readonly message: string;
}

/** Worker → primary: generation applied (listeners bound, tables swapped) or failed. */
export interface ConfigApplied {
  readonly kind: 'config-applied';
  readonly generation: number;
  readonly bindFailures: readonly BindFailure[];
}
