import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freePort, httpCheck, type LogLine, TaggedLoad, taggedSentAt, waitFor, webPool } from '@rustlb/testkit';
import { perTest } from './support/per-test.js';

const { upstream, rustlb, cleanup } = perTest();

const isHttpAccess = (l: LogLine) => l.msg === 'http request' && typeof l.path === 'string';

test('four workers agree: once the transition is logged, no request from any worker reaches the server', async () => {
  const a = await upstream('a');
  const b = await upstream('b');
  const port = await freePort();
  const lb = await rustlb(
    webPool(port, [a.address, b.address], {
      backend: { health_check: httpCheck({ interval: '300ms', timeout: '2s', unhealthy_threshold: 2, cooldown: '1h' }) },
    }),
    4,
  );
  const load = new TaggedLoad(port, 4);
  cleanup(() => load.stop());
  const servedBy = (since: number) => {
    const slots = new Map<number, number>();
    for (const l of lb.logs) {
      const sent = isHttpAccess(l) ? taggedSentAt(l.path as string) : null;
      if (sent !== null && sent >= since) slots.set(l.worker as number, (slots.get(l.worker as number) ?? 0) + 1);
    }
    return slots;
  };
  // Every worker sends traffic to A before the change, so each has something to stop.
  const started = Date.now();
  await waitFor(
    () => {
      const toA = new Set(
        lb.logs.filter((l) => isHttpAccess(l) && l.server === a.address && (taggedSentAt(l.path as string) ?? 0) >= started).map((l) => l.worker),
      );
      return toA.size === 4;
    },
    'each of the 4 workers sending to A',
    20_000,
  );
  a.healthStatus = 503;
  await lb.waitForLog((l) => l.msg === 'server is unhealthy' && l.server === a.address, 'A unhealthy', 15_000);
  const seen = Date.now();
  // Go on until every worker has served several requests sent after the line was seen.
  await waitFor(
    () => {
      const slots = servedBy(seen);
      return slots.size === 4 && [...slots.values()].every((n) => n >= 5);
    },
    'every worker serving after the transition',
    20_000,
  );
  await load.stop();
  const late = a.requests.map((r) => taggedSentAt(r.url)).filter((t): t is number => t !== null && t >= seen);
  assert.deepEqual(
    late.map((t) => t - seen),
    [],
    'requests sent after the transition was logged reached A',
  );
  assert.deepEqual(load.failures(), []);
  assert.equal(lb.logs.filter((l) => l.msg === 'server is unhealthy').length, 1, 'logged once, not per worker');
});

test('a worker that restarts gets the current health view before its first connection', async () => {
  const a = await upstream('a');
  const b = await upstream('b');
  a.healthStatus = 503;
  const port = await freePort();
  const lb = await rustlb(
    webPool(port, [a.address, b.address], {
      backend: { health_check: httpCheck({ interval: '300ms', timeout: '2s', unhealthy_threshold: 2, cooldown: '1h' }) },
    }),
    2,
  );
  await lb.waitForLog((l) => l.msg === 'server is unhealthy' && l.server === a.address, 'A unhealthy', 15_000);
  // Load runs from before the kill, so the replacement's very first connections are measured.
  const load = new TaggedLoad(port, 4);
  cleanup(() => load.stop());
  await load.progress(20);
  const [victim] = lb.workerPids();
  assert.ok(victim !== undefined);
  const before = new Set(lb.workerPids());
  process.kill(victim, 'SIGKILL');
  const fresh = await waitFor(() => lb.workerPids().find((p) => !before.has(p)), 'a replacement worker', 30_000);
  await waitFor(() => lb.logs.filter((l) => isHttpAccess(l) && l.pid === fresh).length >= 30, 'the new worker serving 30 requests', 30_000);
  await load.stop();
  // Round robin over a view where A were healthy would have sent it about half of them.
  assert.equal(a.count, 0, 'the unhealthy server got traffic');
  assert.deepEqual(
    lb.logs.filter((l) => isHttpAccess(l) && l.pid === fresh && l.server !== b.address),
    [],
  );
});
