import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freePort, type HttpUpstream, httpCheck, waitFor, webPool } from '@rustlb/testkit';
import { perTest } from './support/per-test.js';

const { upstream, rustlb } = perTest();

test('one probe per server per interval, whatever the number of workers', async () => {
  const one = await upstream('one');
  const four = await upstream('four');
  const config = (u: HttpUpstream, port: number) =>
    webPool(port, [u.address], { backend: { health_check: httpCheck({ interval: '200ms', timeout: '150ms' }) } });
  // Both run over the same stretch of time, so any load on the machine affects both alike.
  await Promise.all([rustlb(config(one, await freePort()), 1), rustlb(config(four, await freePort()), 4)]);
  const start = { one: one.healthChecks, four: four.healthChecks, at: Date.now() };
  await waitFor(() => one.healthChecks >= start.one + 15, '15 probes with 1 worker', 20_000);
  const got = { one: one.healthChecks - start.one, four: four.healthChecks - start.four };
  const elapsed = Date.now() - start.at;
  // Four workers each probing would give about 4×; jitter and timing give a probe or two either way.
  assert.ok(Math.abs(got.four - got.one) <= Math.max(3, got.one * 0.25), `probes in the same ${elapsed}ms: 1 worker ${got.one}, 4 workers ${got.four}`);
  // And the pace is the interval: 200 ms ± 10% between probe starts (a loaded machine only slows it).
  assert.ok(elapsed / got.one >= 170, `one probe every ${Math.round(elapsed / got.one)}ms`);
});
