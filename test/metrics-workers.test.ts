// The merged view survives what happens to workers (SPEC §5): counters never go
// backwards when a worker is killed and replaced, a planned replacement loses nothing, and
// a stopped worker holds up neither a scrape nor the traffic the others answer.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  backend,
  freePort,
  frontend,
  get,
  type HttpUpstream,
  lbConfig,
  metricValue,
  monotonicSeries,
  parseMetrics,
  RustlbProcess,
  startHttpUpstream,
  startTcpUpstream,
  type TcpUpstream,
  tcpFrontend,
  waitFor,
} from '@rustlb/testkit';

let up: HttpUpstream;
let echo: TcpUpstream;
let lb: RustlbProcess;
let port: number;
let tcp: number;

before(async () => {
  up = await startHttpUpstream('a');
  echo = await startTcpUpstream();
  port = await freePort();
  tcp = await freePort();
  lb = await RustlbProcess.start({
    config: lbConfig({
      frontends: [frontend('web', port, 'pool'), tcpFrontend('tcp', tcp, 'echo')],
      backends: [backend('pool', [up.address]), backend('echo', [echo.address])],
    }),
  });
});

after(async () => {
  await lb?.dispose();
  await up?.close();
  await echo?.close();
});

/** Requests on new connections until every worker slot answered at least `min` of them. */
async function spread(min = 1): Promise<number> {
  let n = 0;
  const deadline = Date.now() + 30_000;
  for (;;) {
    for (let i = 0; i < 10; i++) {
      assert.equal((await get(port, { path: `/r${n}` })).status, 200);
      n++;
    }
    const text = await lb.metrics();
    const done = [0, 1].every((w) => (metricValue(text, 'rustlb_worker_requests_total', { worker: String(w) }) ?? 0) >= min);
    if (done || Date.now() > deadline) return n;
  }
}

/** Every counter and histogram series of `before` is in `after` with a value at least as large. */
function assertNoneWentBack(beforeText: string, afterText: string): void {
  const before = monotonicSeries(parseMetrics(beforeText));
  const after = monotonicSeries(parseMetrics(afterText));
  assert.ok(before.size > 20, `only ${before.size} series`);
  const back: string[] = [];
  for (const [key, v] of before) {
    const now = after.get(key);
    if (now === undefined || now < v) back.push(`${key}: ${v} → ${now}`);
  }
  assert.deepEqual(back, [], 'series that went backwards or vanished');
}

/** The pid a worker slot runs as now, from the lifecycle lines. */
function pidOfSlot(slot: number): number {
  const alive = lb.workerPids();
  const line = [...lb.logs]
    .reverse()
    .find((l) => (l.msg === 'worker forked' || l.msg === 'worker respawned') && l.worker === slot && alive.includes(l.workerPid as number));
  assert.ok(line !== undefined, `no live worker in slot ${slot}`);
  return line.workerPid as number;
}

describe('a worker killed with SIGKILL', () => {
  test('every counter and histogram series is at least what it was before the kill, after the replacement', async () => {
    const n = await spread(3);
    // Something in every family a worker reports: a TCP session too.
    const s = connect(tcp, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.write('hello');
      s.once('data', () => {
        s.end();
        resolve();
      });
    });
    await waitFor(
      async () => metricValue(await lb.metrics(), 'rustlb_bytes_total', { frontend: 'tcp', direction: 'Inbound' }) === 5,
      'the TCP session counted',
    );
    const beforeText = await lb.metrics();
    assert.equal(metricValue(beforeText, 'rustlb_requests_total', { frontend: 'web' }), n);
    assert.equal(metricValue(beforeText, 'rustlb_worker_restarts_total'), 0);
    const victim = pidOfSlot(0);
    const respawnsBefore = lb.logs.filter((l) => l.msg === 'worker respawned').length;
    process.kill(victim, 'SIGKILL');
    // Scrapes while the slot is empty and while its replacement starts: never below `before`.
    const during: string[] = [];
    await waitFor(
      async () => {
        during.push(await lb.metrics());
        return lb.logs.filter((l) => l.msg === 'worker respawned').length > respawnsBefore;
      },
      'the killed worker to be respawned',
      20_000,
      50,
    );
    await lb.waitReady();
    const afterText = await lb.metrics();
    for (const t of during) assertNoneWentBack(beforeText, t);
    assertNoneWentBack(beforeText, afterText);
    assert.equal(metricValue(afterText, 'rustlb_requests_total', { frontend: 'web' }), n, 'a request counted once, never twice');
    assert.equal(metricValue(afterText, 'rustlb_worker_restarts_total'), 1);
    // The replacement counts on top of what the dead worker had answered.
    const m = await spread(0);
    const later = await lb.metrics();
    assert.equal(metricValue(later, 'rustlb_requests_total', { frontend: 'web' }), n + m);
    assert.equal(
      (metricValue(later, 'rustlb_worker_requests_total', { worker: '0' }) ?? 0) + (metricValue(later, 'rustlb_worker_requests_total', { worker: '1' }) ?? 0),
      n + m,
    );
    // The dead worker's connections are gone from the gauge, not kept.
    assert.equal(metricValue(later, 'rustlb_active_connections', { frontend: 'tcp' }), 0);
  });
});

describe('a planned replacement (rolling restart)', () => {
  test('requests answered since the last scrape are not lost when the old workers drain and exit', async () => {
    const before = metricValue(await lb.metrics(), 'rustlb_requests_total', { frontend: 'web' }) as number;
    // No scrape between these requests and the restart: only the drained workers' last report has them.
    const n = await (async () => {
      let k = 0;
      for (; k < 30; k++) assert.equal((await get(port, { path: `/planned${k}` })).status, 200);
      return k;
    })();
    const restart = await lb.ctl(['restart-workers']);
    assert.equal(restart.code, 0, restart.stdout + restart.stderr);
    await waitFor(() => lb.logs.filter((l) => l.msg === 'worker exited').length >= 2, 'both old workers to exit', 30_000);
    const text = await lb.metrics();
    assert.equal(metricValue(text, 'rustlb_requests_total', { frontend: 'web' }), before + n);
    // A planned exit is not a restart after a crash.
    assert.equal(metricValue(text, 'rustlb_worker_restarts_total'), 1);
  });
});

describe('a stopped worker (SIGSTOP)', () => {
  test('a scrape still answers within 1 s with what is known, the scrape-error counter says so, and the live worker answers traffic meanwhile', async () => {
    await spread(1);
    const beforeText = await lb.metrics();
    const errorsBefore = metricValue(beforeText, 'rustlb_metrics_scrape_errors_total') as number;
    const victim = pidOfSlot(1);
    process.kill(victim, 'SIGSTOP');
    try {
      const started = performance.now();
      let settled = false;
      const scrape = lb.metrics().finally(() => {
        settled = true;
      });
      // While the scrape waits on the stopped worker, traffic on new connections is answered
      // by the live one: a scrape never blocks traffic.
      const ids = Array.from({ length: 6 }, (_, i) => `during-scrape-${i}`);
      const answered = await Promise.all(
        ids.map(async (id) => {
          const r = await get(port, { path: `/${id}`, headers: { 'X-Request-ID': id }, timeoutMs: 1000 });
          return { status: r.status, whileScraping: !settled };
        }),
      );
      const text = await scrape;
      const took = performance.now() - started;
      assert.ok(took < 1000, `scrape took ${Math.round(took)} ms`);
      assert.deepEqual(
        answered.map((a) => a.status),
        ids.map(() => 200),
      );
      assert.ok(
        answered.some((a) => a.whileScraping),
        'no request was answered while the scrape was pending',
      );
      for (const id of ids) {
        const line = await lb.waitForLog((l) => l.msg === 'http request' && l.requestId === id, `the access line of ${id}`);
        assert.equal(line.worker, 0, `${id} answered by worker ${line.worker}`);
        assert.notEqual(line.pid, victim);
      }
      assert.ok((metricValue(text, 'rustlb_metrics_scrape_errors_total') as number) >= errorsBefore + 1);
      // What the stopped worker reported before is still in the totals.
      assertNoneWentBack(beforeText, text);
      // Its process is still measured (pidusage reads /proc; a stopped process is still there).
      assert.ok((metricValue(text, 'rustlb_process_resident_memory_bytes', { role: 'worker', worker: '1' }) ?? 0) > 0);
      // Probes are not held up either.
      const live = await get(lb.metricsPort, { path: '/livez', timeoutMs: 2000 });
      assert.equal(live.status, 200);
    } finally {
      process.kill(victim, 'SIGCONT');
    }
    // Resumed, it answers again: no more errors.
    await waitFor(
      async () => {
        const a = metricValue(await lb.metrics(), 'rustlb_metrics_scrape_errors_total') as number;
        const b = metricValue(await lb.metrics(), 'rustlb_metrics_scrape_errors_total') as number;
        return a === b;
      },
      'scrapes without errors after SIGCONT',
      10_000,
      50,
    );
  });
});
