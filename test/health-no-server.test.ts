import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  backend,
  freePort,
  frontend,
  get,
  type HttpUpstream,
  httpCheck,
  lbConfig,
  metricValue,
  RustlbProcess,
  raw,
  startHttpUpstream,
  startTcpUpstream,
  type TcpUpstream,
  tcpFrontend,
  waitFor,
} from '@rustlb/testkit';

let a: HttpUpstream;
let b: HttpUpstream;
let echo: TcpUpstream;
let lb: RustlbProcess;
let httpPort: number;
let tcpPort: number;

before(async () => {
  a = await startHttpUpstream('a');
  b = await startHttpUpstream('b');
  a.healthStatus = 503;
  b.healthStatus = 503;
  echo = await startTcpUpstream();
  [httpPort, tcpPort] = [await freePort(), await freePort()];
  const check = { interval: '300ms', timeout: '250ms', unhealthy_threshold: 2, healthy_threshold: 1, cooldown: '1h' };
  lb = await RustlbProcess.start({
    config: lbConfig({
      frontends: [frontend('web', httpPort, 'pool'), tcpFrontend('raw', tcpPort, 'echo')],
      backends: [
        backend('pool', [a.address, b.address], { health_check: httpCheck(check) }),
        // An echo server checked over HTTP fails its checks while it accepts connections:
        // if rustlb connected to it anyway, the client would get its bytes back.
        backend('echo', [echo.address], { health_check: httpCheck(check) }),
      ],
    }),
    workers: 2,
    waitReady: false,
  });
  await lb.waitReady(45_000);
  for (const backend of ['pool', 'echo']) {
    await lb.waitForLog(
      (l) => l.msg === 'backend has no healthy server' && l.role === 'primary' && l.backend === backend,
      `${backend} without servers`,
      15_000,
    );
  }
});

after(async () => {
  await lb?.dispose();
  await a?.close();
  await b?.close();
  await echo?.close();
});

test('the primary says at warn level, once, that a backend has no healthy server', () => {
  const lines = lb.logs.filter((l) => l.msg === 'backend has no healthy server' && l.role === 'primary');
  assert.deepEqual(lines.map((l) => [l.backend, l.level]).sort(), [
    ['echo', 'warn'],
    ['pool', 'warn'],
  ]);
});

test('HTTP answers 503 at once', async () => {
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    const r = await get(httpPort, { timeoutMs: 5000 });
    const took = performance.now() - started;
    assert.equal(r.status, 503);
    assert.ok(took < 1000, `answered after ${Math.round(took)}ms`);
  }
  assert.equal(a.count + b.count, 0, 'nothing reached a server');
  // And the worker that answered says so too, at warn level.
  await waitFor(
    () => lb.logs.find((l) => l.msg === 'backend has no healthy server' && l.role === 'worker' && l.backend === 'pool' && l.level === 'warn'),
    'worker warning',
  );
});

test('TCP closes at once, without connecting to the server', async () => {
  const connectionsBefore = echo.connections;
  const probesBetween = () => echo.connections - connectionsBefore;
  const started = performance.now();
  // An idle wait longer than the bound: `closed` comes from rustlb closing, not from giving up.
  const r = await raw(tcpPort, 'hello\n', { idleMs: 5000, timeoutMs: 8000 });
  const took = performance.now() - started;
  assert.equal(r.closed, true);
  assert.equal(r.data, '', 'bytes came back: rustlb connected to the unhealthy server');
  assert.ok(took < 1000, `closed after ${Math.round(took)}ms`);
  // Only health probes (a few per second) reached the echo server meanwhile.
  assert.ok(probesBetween() <= 6);
  await waitFor(() => lb.logs.find((l) => l.msg === 'backend has no healthy server' && l.role === 'worker' && l.backend === 'echo'), 'worker warning');
});

test('the cooldown holds even when the only servers pass their checks again', async () => {
  const checks = a.healthChecks;
  a.healthStatus = 200;
  b.healthStatus = 200;
  // healthy_threshold is 1: three passes would bring them back, if not for the hour of cooldown.
  await waitFor(() => a.healthChecks >= checks + 3, 'three passing probes', 10_000);
  assert.equal((await get(httpPort, { timeoutMs: 5000 })).status, 503);
  assert.equal(metricValue(await lb.metrics(), 'rustlb_backend_health', { backend: 'pool' }), 0);
  assert.equal(a.count + b.count, 0);
});
