import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Blackhole, freePort, httpCheck, httpLoad, metricValue, waitFor, webPool } from '@rustlb/testkit';
import { perTest } from './support/per-test.js';

const { upstream, rustlb, cleanup } = perTest();

test('a killed upstream is found by passive checks alone, and no client sees an error', async () => {
  const a = await upstream('a');
  const b = await upstream('b');
  const port = await freePort();
  // An hour between probes: only the one at start runs during the test.
  const lb = await rustlb(
    webPool(port, [a.address, b.address], { backend: { health_check: httpCheck({ interval: '1h', timeout: '1s', unhealthy_threshold: 3, cooldown: '1h' }) } }),
    2,
  );
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

test('connect timeouts on real traffic reach the primary and take the server out, with no client error', async () => {
  const good = await upstream('good');
  const hole = await Blackhole.start();
  cleanup(async () => hole.close());
  const port = await freePort();
  // Active checks effectively off: an hour between probes, and the one at start waits on the
  // black hole for up to an hour, so it never fails during the test.
  const lb = await rustlb(
    webPool(port, [hole.address, good.address], {
      frontend: { http: { timeouts: { connect: '300ms' } } },
      backend: { health_check: { type: 'tcp', interval: '1h', timeout: '1h', unhealthy_threshold: 2, cooldown: '1h' } },
    }),
    2,
  );
  const load = httpLoad('fresh', port, { concurrency: 2, keepAlive: false });
  cleanup(() => load.stop());
  const down = await lb.waitForLog((l) => l.msg === 'server is unhealthy' && l.server === hole.address, 'the black hole unhealthy', 20_000);
  assert.match(String(down.reason), /^passive: connect-timeout/);
  assert.equal(down.role, 'primary');
  await load.progress(20, 20_000);
  await load.stop();
  // Each connect timeout was retried on the other server.
  assert.deepEqual(load.failures, [], load.describe());
  const m = await lb.metrics();
  assert.equal(metricValue(m, 'rustlb_backend_health', { server: hole.address }), 0);
  assert.equal(metricValue(m, 'rustlb_backend_health', { server: good.address }), 1);
  // No probe of the black hole finished: the decision was the passive reports' alone.
  assert.equal(metricValue(m, 'rustlb_health_checks_total', { server: hole.address }) ?? 0, 0);
  assert.equal(lb.logs.filter((l) => l.msg === 'server is unhealthy').length, 1);
});

test('upstream response timeouts on real traffic reach the primary and take the server out', async () => {
  const slow = await upstream('slow');
  const good = await upstream('good');
  // Health probes (/health) are still answered; every other request is held forever.
  slow.handler = () => {};
  const port = await freePort();
  const lb = await rustlb(
    webPool(port, [slow.address, good.address], {
      frontend: { http: { timeouts: { response: '300ms' } } },
      backend: { health_check: httpCheck({ interval: '1h', timeout: '1s', unhealthy_threshold: 2, cooldown: '1h' }) },
    }),
    2,
  );
  await waitFor(async () => metricValue(await lb.metrics(), 'rustlb_health_checks_total', { server: slow.address }) === 1, 'the probe at start');
  const load = httpLoad('fresh', port, { concurrency: 2, keepAlive: false });
  cleanup(() => load.stop());
  const down = await lb.waitForLog((l) => l.msg === 'server is unhealthy' && l.server === slow.address, 'the slow server unhealthy', 20_000);
  assert.match(String(down.reason), /^passive: response-timeout/);
  assert.equal(down.role, 'primary');
  await load.stop();
  assert.ok(slow.count >= 2, `the slow server got ${slow.count} requests`);
  // A response timeout is not retried: those requests got 504, and nothing else failed.
  assert.ok(
    load.failures.every((f) => f.error.startsWith('status 504')),
    load.describe(),
  );
  const m = await lb.metrics();
  assert.equal(metricValue(m, 'rustlb_backend_health', { server: slow.address }), 0);
  assert.equal(metricValue(m, 'rustlb_backend_health', { server: good.address }), 1);
  // Still the one (successful) probe from the start.
  assert.equal(metricValue(m, 'rustlb_health_checks_total', { server: slow.address }), 1);
  assert.equal(lb.logs.filter((l) => l.msg === 'server is unhealthy').length, 1);
});
