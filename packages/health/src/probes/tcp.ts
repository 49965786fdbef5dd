import { connect } from 'node:net';
import { failureReason, type ProbeResult, type ProbeTarget } from './result.js';

/** Layer 4 check: the server accepts a TCP connection within the timeout. */
export function probeTcp(target: ProbeTarget): Promise<ProbeResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const socket = connect({ host: target.host, port: target.port });
    const done = (ok: boolean, reason: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ok, reason, durationMs: performance.now() - started });
    };
    const timer = setTimeout(() => done(false, 'timeout'), target.timeoutMs);
    socket.once('connect', () => done(true, null));
    // Kept for the socket's whole life: an error after the verdict must not reach the event loop.
    socket.on('error', (err) => done(false, failureReason(err)));
  });
}
