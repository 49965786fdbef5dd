import { Cell } from './cell.js';
import { DURATION_BUCKETS } from './names.js';

/** PROXY header refusals, in a few kinds (a header's own text never becomes a label). */
export const PROXY_REJECT_REASONS = ['timeout', 'too_long', 'closed', 'invalid'] as const;
export type ProxyRejectReason = (typeof PROXY_REJECT_REASONS)[number];

/**
 * What a frontend's intake records per connection, before any request: PROXY headers
 * refused, TLS handshakes by version and their time, handshake failures by reason. Label
 * values come from small fixed sets, so the series stay bounded.
 */
export class IntakeMetrics {
  readonly frontend: string;
  readonly #enabled: () => boolean;
  readonly proxyRejections = new Map<string, Cell>();
  readonly tlsFailures = new Map<string, Cell>();
  readonly tlsHandshakes = new Map<string, Cell>();
  readonly handshakeBuckets = new Float64Array(DURATION_BUCKETS.length);
  handshakeSum = 0;
  handshakeCount = 0;

  constructor(frontend: string, enabled: () => boolean) {
    this.frontend = frontend;
    this.#enabled = enabled;
  }

  /** `reason` as the codec or the intake says it; counted under one of PROXY_REJECT_REASONS. */
  proxyRejected(reason: string): void {
    if (!this.#enabled()) return;
    count(this.proxyRejections, proxyReason(reason));
  }

  /** `reason`: one of the intake's short handshake failure reasons. */
  tlsFailed(reason: string): void {
    if (!this.#enabled()) return;
    count(this.tlsFailures, reason);
  }

  tlsEstablished(seconds: number, version: string): void {
    if (!this.#enabled()) return;
    count(this.tlsHandshakes, version);
    this.handshakeSum += seconds;
    this.handshakeCount++;
    let i = 0;
    while (i < DURATION_BUCKETS.length && seconds > (DURATION_BUCKETS[i] as number)) i++;
    if (i < DURATION_BUCKETS.length) this.handshakeBuckets[i] = (this.handshakeBuckets[i] as number) + 1;
  }
}

function count(cells: Map<string, Cell>, key: string): void {
  let c = cells.get(key);
  if (c === undefined) {
    c = new Cell();
    cells.set(key, c);
  }
  c.value++;
}

export function proxyReason(reason: string): ProxyRejectReason {
  if (reason === 'timeout') return 'timeout';
  // The intake's own bound, or the codec's (a v1 line past 107 bytes, a v2 length above 4096).
  if (reason === 'too long' || /first 107 bytes|above 4096/.test(reason)) return 'too_long';
  if (reason.startsWith('closed')) return 'closed';
  return 'invalid';
}
