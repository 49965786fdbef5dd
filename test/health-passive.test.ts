import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freePort, type HttpUpstream, httpLoad, metricValue, waitFor } from '@rustlb/testkit';
import { perTest } from './support/per-test.js';

const { upstream, rustlb, cleanup } = perTest();

function pool(port: number, servers: readonly HttpUpstream[], healthCheck: Record<string, unknown>): Record<string, unknown> {
  return {
    frontends: [{ name: 'web', listen: `127.0.0.1:${port}`, protocol: 'http', backend: 'pool' }],
    backends: [{ name: 'pool', servers: servers.map((s) => ({ address: s.address })), health_check: healthCheck }],
  };
}

test('a killed upstream is found by passive checks alone, and no client sees an error', async () => {
  const a = await upstream('a');
  const b = await upstream('b');
  const port = await freePort();
  // An hour between probes: only the one at start runs during the test.
  const lb = await rustlb(pool(port, [a, b], { type: 'http', path: '/health', interval: '1h', timeout: '1s', unhealthy_threshold: 3, cooldown: '1h' }), 2);
  const address = a.address;
  await waitFor(async () => metricValue(await lb.metrics(), 'rustlb_health_checks_total', { server: address }) === 1, 'the probe at start');
  const fresh = httpLoad('fresh', port, { concurrency: 2, keepAlive: false });
  const pooled = httpLoad('keep-alive', port, { concurrency: 2, keepAlive: true });
  cleanup(() => Promise.all([fresh.stop(), pooled.stop()]));
  await waitFor(() => a.count > 10 && b.count > 10, 'traffic on both servers');
  await a.close();
  const down = await lb.waitForLog((l) => l.msg === 'server is unhealthy' && l.server === address, 'A unhealthy', 15_000);
  assert.match(String(down.reason), /^passive: (refused|reset)/);
  assert.equal(down.role, 'primary');
  await Promise.all([fresh.progress(50), pooled.progress(50)]);
  await Promise.all([fresh.stop(), pooled.stop()]);
  assert.deepEqual(fresh.failures, [], fresh.describe());
  assert.deepEqual(pooled.failures, [], pooled.describe());
  const m = await lb.metrics();
  assert.equal(metricValue(m, 'rustlb_backend_health', { server: address }), 0);
  // Still the one probe from the start: the active checks had no part in it.
  assert.equal(metricValue(m, 'rustlb_health_checks_total', { server: address }), 1);
  // Workers report failures in batches, and the primary decides once.
  assert.equal(lb.logs.filter((l) => l.msg === 'server is unhealthy').length, 1);
});
