import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backend, freePort, frontend, get, type LogLine, lbConfig, metricValue, startTcpUpstream, tcpFrontend, waitFor } from '@rustlb/testkit';
import { perTest } from './support/per-test.js';

const { upstream, rustlb, cleanup } = perTest();

/** When a transition happened (its line is written a moment later). */
function logTime(line: LogLine): number {
  return Date.parse((line.changedAt ?? line.time) as string);
}

test('a backend without health_check gets tcp checks with health_check_defaults', async () => {
  const t = await startTcpUpstream();
  cleanup(() => t.close());
  const h = await upstream('h');
  const port = await freePort();
  const lb = await rustlb(
    lbConfig({
      health_check_defaults: { interval: '300ms', timeout: '200ms', unhealthy_threshold: 2, healthy_threshold: 1, cooldown: '1s' },
      frontends: [tcpFrontend('web', port, 'plain')],
      backends: [backend('plain', [t.address, h.address])],
    }),
    2,
  );
  // Connections arrive with no client traffic at all: TCP connects, at the defaults' pace.
  const before = t.connections;
  await waitFor(() => t.connections >= before + 5, 'five TCP probes', 10_000);
  await waitFor(async () => (metricValue(await lb.metrics(), 'rustlb_health_checks_total', { server: h.address, result: 'Success' }) ?? 0) >= 5, 'probes of h');
  // A TCP check does not speak HTTP: the HTTP server saw connections but no request.
  assert.equal(h.healthChecks, 0);
  assert.equal(h.count, 0);
  // Two refused connects (unhealthy_threshold from the defaults) take the server down.
  const address = t.address;
  const closedAt = Date.now();
  await t.close();
  const down = await lb.waitForLog((l) => l.msg === 'server is unhealthy' && l.server === address, 'tcp server unhealthy', 10_000);
  assert.match(String(down.reason), /health check failed: refused/);
  assert.equal(down.unhealthyThreshold, 2);
  assert.ok(logTime(down) - closedAt <= 300 * 3 + 1000, `down ${logTime(down) - closedAt}ms after closing`);
  assert.equal(metricValue(await lb.metrics(), 'rustlb_backend_health', { server: address }), 0);
});

test('with no health settings at all, a tcp check with the built-in defaults runs at start', async () => {
  const h = await upstream('d');
  let connections = 0;
  h.server.on('connection', () => connections++);
  const port = await freePort();
  const lb = await rustlb(lbConfig({ frontends: [frontend('web', port, 'plain')], backends: [backend('plain', [h.address])] }), 1);
  // The first probe comes within 10% of the 10 s interval (at most 1 s) of the start.
  await waitFor(async () => metricValue(await lb.metrics(), 'rustlb_health_checks_total', { server: h.address, result: 'Success' }) === 1, 'first probe');
  assert.equal(connections, 1);
  assert.equal(h.healthChecks + h.count, 0, 'a TCP connect, not an HTTP request');
  const status = await lb.ctl(['status', '--json']);
  assert.equal(status.code, 0, status.stderr);
  const body = JSON.parse(status.stdout) as { backends: { servers: { server: string; healthy: boolean; lastCheck: string | null }[] }[] };
  assert.deepEqual(body.backends[0]?.servers[0], { ...body.backends[0]?.servers[0], server: `plain/${h.address}`, healthy: true, lastCheck: 'ok' });
  assert.equal((await get(port)).status, 200);
});
