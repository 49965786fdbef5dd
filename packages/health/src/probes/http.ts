import { request } from 'node:http';
import { isIP } from 'node:net';
import { VERSION } from '@rustlb/core';
import { connectProbe } from './connect.js';
import { failureReason, type ProbeResult, type ProbeTarget } from './result.js';

export interface HttpProbeTarget extends ProbeTarget {
  readonly path: string;
  readonly expectedStatus: number;
  /** Host header; default `host:port` of the target. A name resolved by DNS passes the name, as a client would. */
  readonly hostHeader?: string;
}

const USER_AGENT = `rustlb/${VERSION} health-check`;

/** Layer 7 check: GET path answers expected_status within the timeout. */
export function probeHttp(target: HttpProbeTarget): Promise<ProbeResult> {
  const started = performance.now();
  const hostHeader = target.hostHeader ?? (isIP(target.host) === 6 ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`);
  return new Promise((resolve) => {
    let settled = false;
    const done = (ok: boolean, reason: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve({ ok, reason, durationMs: performance.now() - started });
    };
    // The connection is made here (PROXY header, TLS), the request written on it by node:http.
    // With createConnection and no agent, node:http uses no agent at all: nothing pooled.
    const req = request({
      path: target.path,
      method: 'GET',
      createConnection: () => connectProbe(target).socket,
      headers: { host: hostHeader, 'user-agent': USER_AGENT, connection: 'close', accept: '*/*' },
    });
    const timer = setTimeout(() => done(false, 'timeout'), target.timeoutMs);
    // The status decides; a body that is slow or endless must not turn a verdict into a timeout.
    req.once('response', (res) => {
      const status = res.statusCode ?? 0;
      res.on('error', () => {});
      done(status === target.expectedStatus, status === target.expectedStatus ? null : `bad status ${status}`);
    });
    req.on('error', (err) => done(false, failureReason(err)));
    req.end();
  });
}
