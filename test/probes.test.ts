// Kubernetes probes on the metrics address (SPEC §3): /livez (= /healthz) follows the primary's event loop and never depends
// on backends, /readyz follows start-up, config acknowledgement, bound frontends and drain; both answer JSON
// with a reason, ?verbose lists each check, and they answer fast.
import assert from 'node:assert/strict';
import { createConnection, createServer } from 'node:net';
import { after, describe, test } from 'node:test';
import {
  backend,
  FAST_CHECK,
  freePort,
  freePorts,
  frontend,
  get,
  type HttpUpstream,
  keepAliveAgent,
  lbConfig,
  metricValue,
  RustlbProcess,
  startDnsServer,
  startHttpUpstream,
  waitFor,
  webPool,
} from '@rustlb/testkit';

interface ProbeBody {
  status: string;
  reason: string;
  checks?: { name: string; ok: boolean; detail: string }[];
}

async function probe(port: number, path: string): Promise<{ status: number; body: ProbeBody; type: string }> {
  const r = await get(port, { path, timeoutMs: 3000 });
  return { status: r.status, body: JSON.parse(r.text) as ProbeBody, type: String(r.headers['content-type']) };
}

const cleanup: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

async function upstream(name: string, port = 0): Promise<HttpUpstream> {
  const u = await startHttpUpstream(name, port);
  cleanup.push(() => u.close());
  return u;
}

/** rustlb with one HTTP frontend `web` over one upstream named `name`, disposed after the file. */
async function startOne(name: string, options: { global?: Record<string, unknown>; workers?: number } = {}): Promise<{ lb: RustlbProcess; port: number }> {
  const up = await upstream(name);
  const port = await freePort();
  const lb = await RustlbProcess.start({
    config: webPool(port, [up.address], { global: options.global }),
    ...(options.workers === undefined ? {} : { workers: options.workers }),
  });
  cleanup.push(() => lb.dispose());
  return { lb, port };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

describe('one instance from start to drain', () => {
  let up: HttpUpstream;
  let lb: RustlbProcess;
  let port: number;
  let upPort: number;
  const config = (extra: Record<string, unknown> = {}) =>
    webPool(port, [`127.0.0.1:${upPort}`], { global: { shutdown_delay: '3s', shutdown_timeout: '5s' }, health_check_defaults: FAST_CHECK, frontend: extra });

  test('/readyz answers 503 while starting, then 200', async () => {
    up = await upstream('a');
    upPort = up.port;
    port = await freePort();
    lb = await RustlbProcess.start({ config: config(), waitReady: false, args: ['--no-watch'] });
    cleanup.push(() => lb.dispose());
    // The first answer the metrics server gives comes before the workers are up.
    const first = await waitFor(
      async () => {
        try {
          return await probe(lb.metricsPort, '/readyz?verbose');
        } catch {
          return null; // not listening yet
        }
      },
      'the metrics server to answer',
      20_000,
      2,
    );
    assert.equal(first.status, 503, JSON.stringify(first.body));
    assert.equal(first.body.status, 'not ready');
    assert.match(first.body.reason, /started: starting/);
    assert.equal(first.body.checks?.find((c) => c.name === 'started')?.ok, false);
    await lb.waitReady();
    const ready = await probe(lb.metricsPort, '/readyz');
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.body, { status: 'ready', reason: 'all checks passed' });
    assert.match(ready.type, /^application\/json/);
  });

  test('/livez and /healthz: 200 with a reason; ?verbose lists each check', async () => {
    for (const path of ['/livez', '/healthz']) {
      const r = await probe(lb.metricsPort, path);
      assert.equal(r.status, 200, path);
      assert.deepEqual(r.body, { status: 'live', reason: 'all checks passed' });
      const v = await probe(lb.metricsPort, `${path}?verbose`);
      assert.deepEqual(
        v.body.checks?.map((c) => [c.name, c.ok]),
        [
          ['event-loop', true],
          ['workers', true],
        ],
      );
      assert.match(v.body.checks?.find((c) => c.name === 'workers')?.detail ?? '', /2 alive/);
    }
    const v = await probe(lb.metricsPort, '/readyz?verbose');
    assert.deepEqual(
      v.body.checks?.map((c) => [c.name, c.ok]),
      [
        ['started', true],
        ['not-draining', true],
        ['workers', true],
        ['config', true],
        ['frontends', true],
      ],
    );
    for (const c of v.body.checks ?? []) assert.ok(c.detail.length > 0, c.name);
    // HEAD works too (kubelet uses GET; load balancers often HEAD).
    const head = await get(lb.metricsPort, { method: 'HEAD', path: '/livez' });
    assert.equal(head.status, 200);
  });

  test('each probe answers in under 10 ms when warm (median of 20)', async () => {
    const agent = keepAliveAgent();
    try {
      for (const path of ['/livez', '/healthz', '/readyz', '/readyz?verbose']) {
        for (let i = 0; i < 3; i++) await get(lb.metricsPort, { path, agent });
        const times: number[] = [];
        for (let i = 0; i < 20; i++) {
          const t0 = performance.now();
          const r = await get(lb.metricsPort, { path, agent });
          times.push(performance.now() - t0);
          assert.equal(r.status, 200);
        }
        assert.ok(median(times) < 10, `${path}: median ${median(times).toFixed(2)} ms of ${times.map((t) => t.toFixed(1)).join(' ')}`);
      }
    } finally {
      agent.destroy();
    }
  });

  test('every backend down: /livez and /readyz still 200 (a liveness failure would restart the pod)', async () => {
    await up.close();
    await waitFor(async () => metricValue(await lb.metrics(), 'rustlb_backend_health', { backend: 'pool' }) === 0, 'the only server to be unhealthy');
    assert.equal((await get(port)).status, 503);
    assert.equal((await probe(lb.metricsPort, '/livez')).status, 200);
    assert.equal((await probe(lb.metricsPort, '/healthz')).status, 200);
    assert.equal((await probe(lb.metricsPort, '/readyz')).status, 200);
    up = await upstream('a2', upPort);
    await waitFor(async () => metricValue(await lb.metrics(), 'rustlb_backend_health', { backend: 'pool' }) === 1, 'the server to be healthy again');
  });

  test('/readyz is 503 while a live worker has not acknowledged the current generation', async () => {
    const pids = lb.workerPids();
    assert.equal(pids.length, 2);
    const stopped = pids[1] as number;
    lb.writeConfig(config({ algorithm: 'least_connections' }));
    process.kill(stopped, 'SIGSTOP');
    let reload: Promise<{ code: number; stdout: string; stderr: string }> | null = null;
    try {
      reload = lb.ctl(['reload']);
      const behind = await waitFor(
        async () => {
          const r = await probe(lb.metricsPort, '/readyz');
          return r.status === 503 ? r : null;
        },
        '/readyz 503 with a worker behind',
        10_000,
        20,
      );
      // The running worker may not have applied it yet either at the first sample.
      assert.match(behind.body.reason, /config: workers? \d+(, \d+)* behind generation 2/);
      // Still alive: liveness does not care.
      assert.equal((await probe(lb.metricsPort, '/livez')).status, 200);
    } finally {
      process.kill(stopped, 'SIGCONT');
    }
    await waitFor(async () => (await probe(lb.metricsPort, '/readyz')).status === 200, '/readyz 200 once the worker applied it', 10_000, 20);
    const r = await reload;
    assert.equal(r?.code, 0, `${r?.stdout}${r?.stderr}`);
  });

  test('SIGTERM with a shutdown_delay: /readyz 503 at once and during the whole drain, /livez 200, traffic still served', async () => {
    lb.child.kill('SIGTERM');
    const draining = await waitFor(
      async () => {
        const r = await probe(lb.metricsPort, '/readyz?verbose');
        return r.status === 503 ? r : null;
      },
      '/readyz 503 after SIGTERM',
      5_000,
      5,
    );
    assert.equal(draining.body.status, 'not ready');
    assert.match(draining.body.reason, /not-draining: shutting down/);
    assert.equal(draining.body.checks?.find((c) => c.name === 'not-draining')?.ok, false);
    // During the delay: still accepting, answering with Connection: close, and alive.
    const r = await get(port, { path: '/during-drain' });
    assert.equal(r.status, 200);
    assert.equal(r.headers.connection, 'close');
    assert.equal((await probe(lb.metricsPort, '/livez')).status, 200);
    assert.equal((await probe(lb.metricsPort, '/readyz')).status, 503);
    const exit = await lb.exited;
    assert.equal(exit.code, 0);
  });
});

describe('metrics.enabled: false', () => {
  test('with probes: true, /metrics (and the configured path) answer 404; /livez, /healthz and /readyz are served on the same address', async () => {
    const { lb, port } = await startOne('m', { global: { metrics: { enabled: false, probes: true, path: '/prom' } } });
    assert.equal((await get(port)).status, 200);
    for (const path of ['/metrics', '/prom']) assert.equal((await get(lb.metricsPort, { path })).status, 404, path);
    assert.match((await get(lb.metricsPort, { path: '/prom' })).text, /metrics are disabled/);
    for (const path of ['/livez', '/healthz', '/readyz']) assert.equal((await probe(lb.metricsPort, path)).status, 200, path);
    assert.equal((await get(lb.metricsPort, { path: '/nope' })).status, 404);
    assert.ok(lb.logs.some((l) => l.msg === 'rustlb started' && l.metrics === 'off'));
  });
});

describe('metrics.enabled: false without probes (an original file)', () => {
  test('nothing is bound on the metrics address: a port held by another process there does not stop start-up, as with the original', async () => {
    const up = await upstream('unbound');
    const [port, metricsPort] = await freePorts(2);
    // Someone else holds the metrics address (the clash the original survived).
    const holder = createServer((s) => s.end('holder\n'));
    await new Promise<void>((resolve) => holder.listen(metricsPort, '127.0.0.1', resolve));
    cleanup.push(() => new Promise((resolve) => holder.close(resolve)));
    const lb = await RustlbProcess.start({
      config: webPool(port, [up.address], { global: { metrics: { enabled: false, address: `127.0.0.1:${metricsPort}` } } }),
      waitReady: false,
    });
    cleanup.push(() => lb.dispose());
    await lb.waitForLog((l) => l.msg === 'rustlb started', 'rustlb started', 15_000);
    assert.equal((await get(port)).status, 200);
    assert.equal(lb.child.exitCode, null);
    // The holder still has the address: rustlb never bound it.
    const text = await new Promise<string>((resolve, reject) => {
      const c = createConnection(metricsPort, '127.0.0.1');
      let got = '';
      c.on('data', (d) => {
        got += d;
      });
      c.on('end', () => resolve(got));
      c.on('error', reject);
    });
    assert.equal(text, 'holder\n');
  });
});

describe('a custom metrics path', () => {
  test('global.metrics.path: /prom serves the merged metrics there; /metrics is 404; the probes stay where they are', async () => {
    const { lb, port } = await startOne('p', { global: { metrics: { path: '/prom' } } });
    assert.equal((await get(port)).status, 200);
    const scrape = await waitFor(
      async () => {
        const r = await get(lb.metricsPort, { path: '/prom', timeoutMs: 3000 });
        assert.equal(r.status, 200, r.text);
        return metricValue(r.text, 'rustlb_requests_total', { frontend: 'web', status: '200' }) === 1 ? r : null;
      },
      'the request counted on /prom',
      5_000,
    );
    assert.match(String(scrape.headers['content-type']), /^text\/plain/);
    assert.match(scrape.text, /^# TYPE rustlb_requests_total counter$/m);
    assert.match(scrape.text, /^rustlb_worker_requests_total\{/m);
    const old = await get(lb.metricsPort, { path: '/metrics', timeoutMs: 3000 });
    assert.equal(old.status, 404);
    assert.doesNotMatch(old.text, /rustlb_/);
    for (const path of ['/livez', '/healthz', '/readyz']) assert.equal((await probe(lb.metricsPort, path)).status, 200, path);
    assert.ok(lb.logs.some((l) => l.msg === 'rustlb started' && l.metrics === `http://127.0.0.1:${lb.metricsPort}/prom`));
  });
});

describe('a frontend the workers could not bind', () => {
  test('/readyz answers 503 naming the frontend when its address was taken between the preflight and the workers binding it', async () => {
    const up = await upstream('b');
    const dns = await startDnsServer();
    cleanup.push(() => dns.close());
    const NAME = 'late.rustlb.test';
    const [port, extraPort] = await freePorts(2);
    const base = { global: { resolvers: [dns.address] }, frontends: [frontend('web', port, 'pool')], backends: [backend('pool', [up.address])] };
    const lb = await RustlbProcess.start({ config: lbConfig(base), args: ['--no-watch'] });
    cleanup.push(() => lb.dispose());
    // The reload adds a frontend and a backend named in DNS. The primary checks the new
    // address is free (preflight), then resolves the new name before it pushes the
    // configuration: a query that goes unanswered holds the push while another process
    // (this one) takes the address.
    dns.set(NAME, 'timeout');
    lb.writeConfig(
      lbConfig({
        ...base,
        frontends: [...base.frontends, frontend('extra', extraPort, 'named')],
        backends: [...base.backends, backend('named', [`${NAME}:${up.port}`])],
      }),
    );
    const reload = lb.ctl(['reload', '--json']);
    await waitFor(() => dns.queriesFor(NAME) > 0, 'the primary to resolve the new name (after its preflight)', 10_000);
    const squatter = createServer();
    await new Promise<void>((resolve, reject) => {
      squatter.once('error', reject);
      squatter.listen({ host: '127.0.0.1', port: extraPort, exclusive: true }, () => resolve());
    });
    let released = false;
    const release = () => (released ? Promise.resolve() : new Promise<void>((resolve) => squatter.close(() => resolve())));
    cleanup.push(release);
    // The retry of the query is answered: the push goes out and the workers find the address taken.
    dns.set(NAME, ['127.0.0.1']);
    const r = await reload;
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const result = JSON.parse(r.stdout) as { accepted: boolean; warnings: string[] };
    assert.equal(result.accepted, true);
    assert.ok(
      result.warnings.some((w) => w.includes('extra') && w.includes(`127.0.0.1:${extraPort}`)),
      JSON.stringify(result.warnings),
    );
    const ready = await probe(lb.metricsPort, '/readyz?verbose');
    assert.equal(ready.status, 503, JSON.stringify(ready.body));
    assert.equal(ready.body.status, 'not ready');
    // Only the frontends check fails: both workers applied the generation, and each says which frontend it could not bind.
    assert.deepEqual(
      ready.body.checks?.filter((c) => !c.ok).map((c) => c.name),
      ['frontends'],
    );
    const unbound = `extra (127.0.0.1:${extraPort}: EADDRINUSE)`;
    assert.equal(ready.body.reason, `frontends: ${unbound}, ${unbound}`);
    assert.equal((await probe(lb.metricsPort, '/livez')).status, 200);
    assert.equal((await get(port)).status, 200);
    // Freed and reloaded: the workers bind it and /readyz is 200 again.
    await release();
    released = true;
    const again = await lb.ctl(['reload', '--json']);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.deepEqual((JSON.parse(again.stdout) as { warnings: string[] }).warnings, []);
    assert.deepEqual(await probe(lb.metricsPort, '/readyz'), { status: 200, body: { status: 'ready', reason: 'all checks passed' }, type: 'application/json' });
    assert.equal((await get(extraPort)).status, 200);
  });
});

describe("liveness and the primary's event loop", () => {
  test('/livez answers 503 naming the event loop after the primary stalled for over 5 s, and 200 once it runs again', async () => {
    const { lb, port } = await startOne('e', { workers: 1 });
    const pid = lb.child.pid as number;
    // A stopped process is an event loop that does not turn: the stall is real, not simulated inside.
    process.kill(pid, 'SIGSTOP');
    let pending: Promise<Awaited<ReturnType<typeof get>>>;
    try {
      const stoppedAt = performance.now();
      // Sent now, this probe waits in the listen backlog until the loop turns again.
      pending = get(lb.metricsPort, { path: '/livez?verbose', timeoutMs: 20_000 });
      // The threshold is a duration: nothing but time passing can cross it.
      await waitFor(() => performance.now() - stoppedAt > 6_000, 'the primary to have been stopped for 6 s', 10_000, 100);
      // The workers are separate processes: traffic does not wait for the primary.
      assert.equal((await get(port, { timeoutMs: 2000 })).status, 200);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    const stalled = await pending;
    const body = JSON.parse(stalled.text) as ProbeBody;
    assert.equal(stalled.status, 503, stalled.text);
    assert.equal(body.status, 'not live');
    const m = /^event-loop: lag (\d+)ms$/.exec(body.reason);
    assert.ok(m !== null, body.reason);
    assert.ok(Number(m[1]) > 5000, body.reason);
    assert.deepEqual(
      body.checks?.map((c) => [c.name, c.ok]),
      [
        ['event-loop', false],
        ['workers', true],
      ],
    );
    await waitFor(async () => (await probe(lb.metricsPort, '/livez')).status === 200, '/livez 200 once the loop turns on time again', 5_000, 50);
  });
});

describe('liveness without workers', () => {
  test('/livez answers 503 while no worker is alive, and 200 again once one is respawned', async () => {
    const { lb, port } = await startOne('l', { workers: 1 });
    // Kill the only worker until the respawn backoff leaves a window long enough to look at.
    for (let round = 0; round < 6; round++) {
      const [pid] = lb.workerPids();
      assert.ok(pid !== undefined);
      const died = lb.logs.filter((l) => l.msg === 'worker died unexpectedly; respawning').length;
      process.kill(pid, 'SIGKILL');
      const line = await lb.waitForLog((l) => l.msg === 'worker died unexpectedly; respawning' && l.workerPid === pid, 'the death of the worker', 10_000);
      assert.equal(lb.logs.filter((l) => l.msg === 'worker died unexpectedly; respawning').length, died + 1);
      if ((line.respawnInMs as number) >= 400) {
        const r = await probe(lb.metricsPort, '/livez?verbose');
        assert.equal(r.status, 503, JSON.stringify(r.body));
        assert.equal(r.body.status, 'not live');
        assert.match(r.body.reason, /workers: 0 alive/);
        await waitFor(async () => (await probe(lb.metricsPort, '/livez')).status === 200, '/livez 200 after the respawn', 20_000, 20);
        await lb.waitReady(20_000);
        assert.equal((await get(port)).status, 200);
        return;
      }
      await lb.waitReady(20_000);
    }
    assert.fail('the respawn backoff never reached 400 ms');
  });
});
