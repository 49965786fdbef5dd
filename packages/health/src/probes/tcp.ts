import { connectProbe } from './connect.js';
import { failureReason, type ProbeResult, type ProbeTarget } from './result.js';

/** Layer 4 check: the server accepts a TCP connection within the timeout. */
export function probeTcp(target: ProbeTarget): Promise<ProbeResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    // A TLS backend is up when its handshake completes (certificate verified, as the workers require).
    const { socket, ready } = connectProbe(target);
    const done = (ok: boolean, reason: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ok, reason, durationMs: performance.now() - started });
    };
    const timer = setTimeout(() => done(false, 'timeout'), target.timeoutMs);
    socket.once(ready, () => done(true, null));
    // Kept for the socket's whole life: an error after the verdict must not reach the event loop.
    socket.on('error', (err) => done(false, failureReason(err)));
  });
}
