import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import { freePort, type HttpUpstream, httpCheck, type LogLine, metricValue, TaggedLoad, taggedSentAt, waitFor, webPool } from '@rustlb/testkit';
import { perTest } from './support/per-test.js';

const { upstream, rustlb, cleanup } = perTest();

/** When a transition happened (its line is written a moment later). */
function logTime(line: LogLine): number {
  return Date.parse((line.changedAt ?? line.time) as string);
}

/** Send times of the tagged requests an upstream received. */
function sentTimes(u: HttpUpstream): number[] {
  return u.requests.map((r) => taggedSentAt(r.url)).filter((t): t is number => t !== null);
}

test('/health at 503: out of rotation within the thresholds, back after the cooldown and healthy_threshold passes', async () => {
  const a = await upstream('a');
  const b = await upstream('b');
  const port = await freePort();
  const interval = 400;
  const cooldown = 3000;
  const lb = await rustlb(
    webPool(port, [a.address, b.address], {
      backend: {
        health_check: httpCheck({ interval: `${interval}ms`, timeout: '2s', unhealthy_threshold: 3, healthy_threshold: 2, cooldown: `${cooldown}ms` }),
      },
    }),
    2,
  );
  // When each tagged request reached A (by its send time).
  const arrivals: [sent: number, arrived: number][] = [];
  a.server.on('request', (req: IncomingMessage) => {
    const sent = taggedSentAt(req.url ?? '');
    if (sent !== null) arrivals.push([sent, Date.now()]);
  });
  const load = new TaggedLoad(port, 2);
  cleanup(() => load.stop());
  await waitFor(() => a.count > 5 && b.count > 5, 'traffic on both servers');
  const isA = (l: LogLine) => l.server === a.address;

  // ---- down: 3 failed probes ----------------------------------------------------------
  const flipped = Date.now();
  a.healthStatus = 503;
  const down = await lb.waitForLog((l) => l.msg === 'server is unhealthy' && isA(l), 'A unhealthy', 15_000);
  const seenDown = Date.now();
  const downAt = logTime(down);
  // interval × unhealthy_threshold + one interval, plus room for a loaded machine.
  const bound = interval * 3 + interval + 1000;
  assert.ok(downAt - flipped <= bound, `down ${downAt - flipped}ms after the flip (bound ${bound}ms)`);
  assert.ok(downAt - flipped >= interval * 0.9 * 2, `down only ${downAt - flipped}ms after the flip: fewer than 3 probes?`);
  assert.match(String(down.reason), /health check failed: bad status 503/);
  assert.equal(down.level, 'warn');
  assert.equal(down.role, 'primary');
  assert.equal(down.pid, lb.child.pid);
  const lastToA = Math.max(...sentTimes(a));
  assert.ok(lastToA - flipped <= bound, `A still got a request sent ${lastToA - flipped}ms after the flip`);

  // ---- cooldown: A passes again at once but stays out until the cooldown ends ------------
  const checksAtFlipBack = a.healthChecks;
  a.healthStatus = 200;
  const m = await lb.metrics();
  assert.equal(metricValue(m, 'rustlb_backend_health', { backend: 'pool', server: a.address }), 0);
  assert.equal(metricValue(m, 'rustlb_backend_health', { backend: 'pool', server: b.address }), 1);
  assert.ok((metricValue(m, 'rustlb_health_checks_total', { backend: 'pool', server: a.address, result: 'Failure' }) ?? 0) >= 3);
  assert.ok((metricValue(m, 'rustlb_health_checks_total', { backend: 'pool', server: a.address, result: 'Success' }) ?? 0) >= 1);
  const up = await lb.waitForLog((l) => l.msg === 'server is healthy again' && isA(l), 'A healthy again', 15_000);
  const upAt = logTime(up);
  assert.ok(upAt - downAt >= cooldown, `back ${upAt - downAt}ms after going down, before the ${cooldown}ms cooldown`);
  assert.equal(up.downForMs, upAt - downAt);
  // Two passes came long before the cooldown ended: it returns when the cooldown ends.
  assert.ok(upAt - downAt <= cooldown + 1000, `back only ${upAt - downAt}ms after going down`);
  assert.match(String(up.reason), /cooldown over/);
  assert.ok(a.healthChecks - checksAtFlipBack >= 2, 'healthy_threshold passes before the return');
  // Sent once every worker had the down view, and arrived before A was back: routed while out.
  const duringCooldown = arrivals.filter(([sent, arrived]) => sent > seenDown && arrived < upAt);
  assert.deepEqual(
    duringCooldown.map(([sent, arrived]) => [sent - downAt, arrived - downAt]),
    [],
    `requests reached A while it was out (ms after going down: [sent, arrived]; back after ${upAt - downAt}ms)`,
  );
  await waitFor(() => sentTimes(a).some((t) => t > upAt), 'traffic to A again');
  assert.equal(metricValue(await lb.metrics(), 'rustlb_backend_health', { backend: 'pool', server: a.address }), 1);

  // ---- down again and kept failing past the cooldown: only probes bring it back ------------
  a.healthStatus = 503;
  const down2 = await lb.waitForLog((l) => l.msg === 'server is unhealthy' && isA(l) && logTime(l) > upAt, 'A unhealthy again', 15_000);
  const checksAtDown2 = a.healthChecks;
  // More failed probes than fit in the cooldown: the cooldown is over, and A is still out.
  await waitFor(() => a.healthChecks >= checksAtDown2 + Math.ceil(cooldown / interval) + 2, 'probes past the cooldown', 15_000);
  assert.ok(Date.now() - logTime(down2) > cooldown);
  assert.equal(metricValue(await lb.metrics(), 'rustlb_backend_health', { backend: 'pool', server: a.address }), 0);
  const flippedBack = Date.now();
  a.healthStatus = 200;
  const up2 = await lb.waitForLog((l) => l.msg === 'server is healthy again' && isA(l) && logTime(l) > logTime(down2), 'A healthy after probes', 15_000);
  const took = logTime(up2) - flippedBack;
  // Two passing probes: at least one jittered period apart, within about two periods of the flip.
  assert.ok(took >= interval * 0.9 - 50, `back ${took}ms after /health recovered: fewer than 2 passes?`);
  assert.ok(took <= interval * 2.2 + 1000, `back only ${took}ms after /health recovered`);
  assert.match(String(up2.reason), /health check passed/);

  // ---- logged once, by the primary -----------------------------------------------------
  const transitions = lb.logs.filter((l) => (l.msg === 'server is unhealthy' || l.msg === 'server is healthy again') && isA(l));
  assert.deepEqual(
    transitions.map((l) => [l.msg, l.role]),
    [
      ['server is unhealthy', 'primary'],
      ['server is healthy again', 'primary'],
      ['server is unhealthy', 'primary'],
      ['server is healthy again', 'primary'],
    ],
  );
  await load.stop();
  assert.deepEqual(load.failures(), [], 'B was up all along: no client saw an error');
});
