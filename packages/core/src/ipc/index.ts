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

/**
 * A rustlb message of this protocol version as it arrives: its `kind` is a string, not yet
 * known to be one the receiver handles (`dispatch` finds that out).
 */
export interface Incoming {
  readonly rustlb: typeof IPC_VERSION;
  readonly kind: string;
}

/** True for a rustlb message of this protocol version (anything else is ignored). */
export function isEnvelope(value: unknown): value is Incoming {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { rustlb?: unknown }).rustlb === IPC_VERSION &&
    typeof (value as { kind?: unknown }).kind === 'string'
  );
}

/**
 * Handler table keyed by message kind, checked exhaustive by the compiler. Each handler
 * gets the message, then the receiver's `context` (the primary passes the worker's record).
 */
export type Handlers<U extends { kind: string }, Context extends unknown[] = []> = {
  readonly [K in U['kind']]: (message: Extract<U, { kind: K }>, ...context: Context) => void;
};

/**
 * Calls the handler for `message.kind`. A kind with no handler (a peer of another build)
 * goes to `unknown`, which logs it, and is dropped: nothing else is called.
 */
export function dispatch<U extends { kind: string }, Context extends unknown[]>(
  handlers: Handlers<U, Context>,
  message: Incoming,
  unknown: (kind: string) => void,
  ...context: Context
): void {
  if (!Object.hasOwn(handlers, message.kind)) {
    unknown(message.kind);
    return;
  }
  // The protocol's one cast: the table has its own handler for this kind, so the message is of that kind.
  const byKind = handlers as Readonly<Record<string, (message: unknown, ...context: Context) => void>>;
  byKind[message.kind]?.(message, ...context);
}
