import type { ConfigApplied, ConfigPush } from './config.js';
import type { ConnCounts, ConnView, PassiveReport, TopologyPush } from './health.js';
import type { Drain, Drained, Hello } from './lifecycle.js';
import type { MetricsCollect, MetricsReply } from './metrics.js';

export type { BindFailure, ConfigApplied, ConfigPush } from './config.js';
export type {
  ConnCounts,
  ConnView,
  PassiveFailure,
  PassiveFailureReason,
  PassiveReport,
  TopologyPush,
} from './health.js';
export type { Drain, Drained, Hello } from './lifecycle.js';
export type { MetricsCollect, MetricsReply, MetricsSnapshot, WorkerFigures } from './metrics.js';

/**
 * Bumped when a message changes shape. Every message carries it as `rustlb`, which also
 * tells rustlb's messages apart from anything else on the channel.
 */
export const IPC_VERSION = 1;

export type ToWorker = ConfigPush | TopologyPush | ConnView | MetricsCollect | Drain;
export type ToPrimary = Hello | ConfigApplied | PassiveReport | ConnCounts | MetricsReply | Drained;

export type Envelope<M> = M & { readonly rustlb: typeof IPC_VERSION };

export function envelope<M extends ToWorker | ToPrimary>(message: M): Envelope<M> {
  return { ...message, rustlb: IPC_VERSION };
}

/** True for a rustlb message of this protocol version (anything else is ignored). */
export function isEnvelope(value: unknown): value is Envelope<ToWorker | ToPrimary> {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { rustlb?: unknown }).rustlb === IPC_VERSION &&
    typeof (value as { kind?: unknown }).kind === 'string'
  );
}

/** Handler table keyed by message kind, checked exhaustive by the compiler. */
export type Handlers<U extends { kind: string }> = {
  readonly [K in U['kind']]: (message: Extract<U, { kind: K }>) => void;
};

export function dispatch<U extends { kind: string }>(handlers: Handlers<U>, message: U): void {
  const handler = handlers[message.kind as U['kind']] as ((m: U) => void) | undefined;
  handler?.(message);
}
