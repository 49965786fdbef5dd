import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Counter, Histogram, Registry } from 'prom-client';
import { accumulate, mergeSnapshots, mergeToJson } from '../src/aggregate.js';
import { DURATION_BUCKETS, METHODS, METRIC, type MetricsJson, methodIndex, methodLabel, ORIGINAL_DURATION_BUCKETS, WorkerMetrics } from '../src/index.js';

/** Value of one series in Prometheus text (exact label match, labels in any order). */
function series(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (.+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const got: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)) got[l[1] as string] = l[2] as string;
    if (Object.keys(got).length === Object.keys(labels).length && Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return undefined;
}

async function text(...snapshots: MetricsJson[]): Promise<string> {
  return mergeSnapshots(snapshots).metrics();
}

describe('method label', () => {
  test('the nine standard methods keep their name, anything else is OTHER', () => {
    for (const m of METHODS) assert.equal(methodLabel(methodIndex(m)), m);
    for (const m of ['PROPFIND', 'get', 'FOO', '', 'X'.repeat(1000)]) assert.equal(methodLabel(methodIndex(m)), 'OTHER');
  });
});

describe('WorkerMetrics', () => {
  test('a target is bound once per (frontend, backend) and survives a rebuild of the tables', () => {
    const m = new WorkerMetrics();
    const a = m.target('web', 'pool');
    assert.equal(m.target('web', 'pool'), a);
    assert.notEqual(m.target('web', 'other'), a);
    assert.notEqual(m.target('api', 'pool'), a);
  });

  test('requests, durations, bytes and connections come out as Prometheus series', async () => {
    const m = new WorkerMetrics();
    const t = m.target('web', 'pool');
    t.connections.inc();
    t.active.inc();
    t.active.inc();
    t.active.dec();
    t.request('GET', 200, 0.0005);
    t.request('GET', 200, 0.003);
    t.request('PROPFIND', 207, 0.2);
    t.request('POST', 502, 100);
    t.bytes(10, 20);
    t.bytes(5, 0);
    assert.equal(m.served, 4);
    const out = await text(m.snapshot());
    const l = { frontend: 'web', backend: 'pool' };
    assert.equal(series(out, METRIC.requests, { ...l, method: 'GET', status: '200' }), 2);
    assert.equal(series(out, METRIC.requests, { ...l, method: 'OTHER', status: '207' }), 1);
    assert.equal(series(out, METRIC.requests, { ...l, method: 'POST', status: '502' }), 1);
    assert.equal(series(out, `${METRIC.duration}_count`, l), 4);
    assert.ok(Math.abs((series(out, `${METRIC.duration}_sum`, l) ?? 0) - 100.2035) < 1e-9);
    assert.equal(series(out, `${METRIC.duration}_bucket`, { ...l, le: '0.001' }), 1);
    assert.equal(series(out, `${METRIC.duration}_bucket`, { ...l, le: '0.00625' }), 2);
    assert.equal(series(out, `${METRIC.duration}_bucket`, { ...l, le: '0.244140625' }), 3);
    assert.equal(series(out, `${METRIC.duration}_bucket`, { ...l, le: '59.604644775390625' }), 3);
    assert.equal(series(out, `${METRIC.duration}_bucket`, { ...l, le: '+Inf' }), 4);
    assert.equal(series(out, METRIC.bytes, { ...l, direction: 'Inbound' }), 15);
    assert.equal(series(out, METRIC.bytes, { ...l, direction: 'Outbound' }), 20);
    assert.equal(series(out, METRIC.connections, l), 1);
    assert.equal(series(out, METRIC.activeConnections, l), 1);
    assert.match(out, /# TYPE rustlb_requests_total counter/);
    assert.match(out, /# TYPE rustlb_request_duration_seconds histogram/);
    assert.match(out, /# TYPE rustlb_active_connections gauge/);
    assert.match(out, /# TYPE rustlb_connections_total counter/);
    assert.match(out, /# TYPE rustlb_bytes_total counter/);
  });

  test('the histogram matches what prom-client itself computes for the same observations', async () => {
    const m = new WorkerMetrics();
    const t = m.target('web', 'pool');
    const registry = new Registry();
    const reference = new Histogram({
      name: METRIC.duration,
      help: 'x',
      labelNames: ['frontend', 'backend'],
      buckets: [...ORIGINAL_DURATION_BUCKETS],
      registers: [registry],
    });
    const values = [0, 0.001, 0.0011, 0.0025, 0.04, 0.05, 0.7, 1, 2.5, 9.99, 30, 60, 61, 1e6];
    for (const v of values) {
      t.request('GET', 200, v);
      reference.labels('web', 'pool').observe(v);
    }
    const ours = await text(m.snapshot());
    const theirs = await registry.metrics();
    for (const le of [...ORIGINAL_DURATION_BUCKETS.map(String), '+Inf']) {
      const l = { frontend: 'web', backend: 'pool', le };
      assert.equal(series(ours, `${METRIC.duration}_bucket`, l), series(theirs, `${METRIC.duration}_bucket`, l), `le=${le}`);
    }
  });

  test('a pair without requests exports no histogram series (a TCP frontend)', async () => {
    const m = new WorkerMetrics();
    m.target('tcp', 'pool').connections.inc();
    const out = await text(m.snapshot());
    assert.doesNotMatch(out, /rustlb_request_duration_seconds_count/);
    assert.equal(series(out, METRIC.connections, { frontend: 'tcp', backend: 'pool' }), 1);
  });

  test('disabled: nothing is recorded or exported, requests are still counted for the status figures', async () => {
    const m = new WorkerMetrics();
    m.enabled = false;
    const t = m.target('web', 'pool');
    t.request('GET', 200, 0.01);
    assert.equal(m.served, 1);
    const out = await text(m.snapshot());
    assert.equal(series(out, METRIC.requests, { frontend: 'web', backend: 'pool', method: 'GET', status: '200' }), undefined);
  });

  test('the registry facade answers like prom-client', async () => {
    const m = new WorkerMetrics();
    m.target('web', 'pool').request('GET', 200, 0.01);
    assert.deepEqual(await m.registry.getMetricsAsJSON(), m.snapshot());
  });
});

describe('per-server metrics', () => {
  test('a server handle is bound once per (backend, address), and counts by status class', async () => {
    const m = new WorkerMetrics();
    const s = m.server('pool', '10.0.0.1:80');
    assert.equal(m.server('pool', '10.0.0.1:80'), s);
    assert.notEqual(m.server('pool', '10.0.0.2:80'), s);
    assert.notEqual(m.server('other', '10.0.0.1:80'), s);
    for (const [status, seconds] of [
      [200, 0.0005],
      [204, 0.003],
      [404, 0.2],
      [499, 0.01],
      [502, 100],
    ] as const) {
      s.request(status, seconds);
    }
    // Per-server requests are not another `served` (the (frontend, backend) target counts those).
    assert.equal(m.served, 0);
    const out = await text(m.snapshot());
    const l = { backend: 'pool', server: '10.0.0.1:80' };
    assert.equal(series(out, METRIC.serverRequests, { ...l, status: '2xx' }), 2);
    assert.equal(series(out, METRIC.serverRequests, { ...l, status: '3xx' }), 0, '2xx to 5xx are there from the first request, at 0');
    assert.equal(series(out, METRIC.serverRequests, { ...l, status: '4xx' }), 2);
    assert.equal(series(out, METRIC.serverRequests, { ...l, status: '5xx' }), 1);
    assert.equal(series(out, METRIC.serverRequests, { ...l, status: '1xx' }), undefined, 'other classes once seen');
    assert.equal(series(out, `${METRIC.serverDuration}_count`, l), 5);
    assert.ok(Math.abs((series(out, `${METRIC.serverDuration}_sum`, l) ?? 0) - 100.2135) < 1e-9);
    assert.equal(series(out, `${METRIC.serverDuration}_bucket`, { ...l, le: '0.001' }), 1);
    assert.equal(series(out, `${METRIC.serverDuration}_bucket`, { ...l, le: '0.005' }), 2);
    assert.equal(series(out, `${METRIC.serverDuration}_bucket`, { ...l, le: '60' }), 4);
    assert.equal(series(out, `${METRIC.serverDuration}_bucket`, { ...l, le: '+Inf' }), 5);
    // Servers that answered nothing export nothing.
    assert.doesNotMatch(out, /10\.0\.0\.2:80/);
    assert.match(out, /# TYPE rustlb_server_requests_total counter/);
    assert.match(out, /# TYPE rustlb_server_request_duration_seconds histogram/);
  });

  test('any three-digit status gives at most nine series per server (status classes, not codes)', async () => {
    const m = new WorkerMetrics();
    const s = m.server('pool', 'a:1');
    for (let status = 100; status <= 999; status++) s.request(status, 0.001);
    const out = await text(m.snapshot());
    const lines = out.split('\n').filter((x) => x.startsWith(`${METRIC.serverRequests}{`));
    assert.equal(lines.length, 9);
    for (let c = 1; c <= 9; c++) assert.equal(series(out, METRIC.serverRequests, { backend: 'pool', server: 'a:1', status: `${c}xx` }), 100);
  });

  test("the histogram matches what prom-client computes, with rustlb's own buckets (not the original's of rustlb_request_duration_seconds)", async () => {
    const m = new WorkerMetrics();
    const s = m.server('pool', 'a:1');
    const registry = new Registry();
    const reference = new Histogram({
      name: METRIC.serverDuration,
      help: 'x',
      labelNames: ['backend', 'server'],
      buckets: DURATION_BUCKETS,
      registers: [registry],
    });
    for (const v of [0, 0.001, 0.0011, 0.0025, 0.04, 0.05, 0.7, 1, 2.5, 9.99, 30, 60, 61, 1e6]) {
      s.request(200, v);
      reference.labels('pool', 'a:1').observe(v);
    }
    const ours = await text(m.snapshot());
    const theirs = await registry.metrics();
    for (const le of [...DURATION_BUCKETS.map(String), '+Inf']) {
      const l = { backend: 'pool', server: 'a:1', le };
      assert.equal(series(ours, `${METRIC.serverDuration}_bucket`, l), series(theirs, `${METRIC.serverDuration}_bucket`, l), `le=${le}`);
    }
  });

  test('a released server (gone from the configuration) is no longer exported; a new handle starts afresh', async () => {
    const m = new WorkerMetrics();
    const s = m.server('pool', 'a:1');
    s.request(200, 0.01);
    m.server('pool', 'b:1').request(200, 0.01);
    s.release();
    // A request finishing later on the released handle does not bring it back.
    s.request(200, 0.01);
    let out = await text(m.snapshot());
    assert.equal(series(out, METRIC.serverRequests, { backend: 'pool', server: 'a:1', status: '2xx' }), undefined);
    assert.equal(series(out, METRIC.serverRequests, { backend: 'pool', server: 'b:1', status: '2xx' }), 1);
    const again = m.server('pool', 'a:1');
    assert.notEqual(again, s);
    again.request(500, 0.01);
    out = await text(m.snapshot());
    assert.equal(series(out, METRIC.serverRequests, { backend: 'pool', server: 'a:1', status: '2xx' }), 0);
    assert.equal(series(out, METRIC.serverRequests, { backend: 'pool', server: 'a:1', status: '5xx' }), 1);
    // Releasing a stale handle does not drop the new one.
    s.release();
    assert.equal(m.server('pool', 'a:1'), again);
  });

  test('disabled: nothing recorded or exported per server', async () => {
    const m = new WorkerMetrics();
    m.enabled = false;
    m.server('pool', 'a:1').request(200, 0.01);
    m.enabled = true;
    const out = await text(m.snapshot());
    assert.doesNotMatch(out, /^rustlb_server_request\w*\{/m);
  });

  test('two workers: per-server counters and histograms add up', async () => {
    const w1 = new WorkerMetrics();
    const w2 = new WorkerMetrics();
    for (let i = 0; i < 3; i++) w1.server('pool', 'a:1').request(200, 0.002);
    for (let i = 0; i < 4; i++) w2.server('pool', 'a:1').request(503, 0.2);
    const out = await text(w1.snapshot(), w2.snapshot());
    const l = { backend: 'pool', server: 'a:1' };
    assert.equal(series(out, METRIC.serverRequests, { ...l, status: '2xx' }), 3);
    assert.equal(series(out, METRIC.serverRequests, { ...l, status: '5xx' }), 4);
    assert.equal(series(out, `${METRIC.serverDuration}_bucket`, { ...l, le: '0.0025' }), 3);
    assert.equal(series(out, `${METRIC.serverDuration}_count`, l), 7);
  });
});

describe('merging', () => {
  test('two workers: counters add, histograms add bucket by bucket, gauges sum', async () => {
    const w1 = new WorkerMetrics();
    const w2 = new WorkerMetrics();
    for (let i = 0; i < 3; i++) w1.target('web', 'pool').request('GET', 200, 0.002);
    for (let i = 0; i < 4; i++) w2.target('web', 'pool').request('GET', 200, 0.2);
    w1.target('web', 'pool').active.inc();
    w2.target('web', 'pool').active.inc(2);
    const out = await text(w1.snapshot(), w2.snapshot());
    const l = { frontend: 'web', backend: 'pool' };
    assert.equal(series(out, METRIC.requests, { ...l, method: 'GET', status: '200' }), 7);
    assert.equal(series(out, `${METRIC.duration}_bucket`, { ...l, le: '0.0025' }), 3);
    assert.equal(series(out, `${METRIC.duration}_bucket`, { ...l, le: '0.244140625' }), 7);
    assert.equal(series(out, `${METRIC.duration}_count`, l), 7);
    assert.equal(series(out, METRIC.activeConnections, l), 3);
  });

  test('a retired worker keeps its counters and histograms, not its gauges', async () => {
    const w = new WorkerMetrics();
    const t = w.target('web', 'pool');
    t.request('GET', 200, 0.01);
    t.active.inc();
    t.bytes(100, 200);
    let retired: MetricsJson = [];
    retired = accumulate(retired, w.snapshot());
    retired = accumulate(retired, w.snapshot());
    const out = await text(retired);
    const l = { frontend: 'web', backend: 'pool' };
    assert.equal(series(out, METRIC.requests, { ...l, method: 'GET', status: '200' }), 2);
    assert.equal(series(out, `${METRIC.duration}_count`, l), 2);
    assert.equal(series(out, METRIC.bytes, { ...l, direction: 'Outbound' }), 400);
    assert.equal(series(out, METRIC.activeConnections, l), undefined);
  });

  test('accumulate is synchronous and its result merges again like any snapshot', async () => {
    const registry = new Registry();
    const c = new Counter({ name: 'x_total', help: 'x', labelNames: ['a'], registers: [registry] });
    c.labels('1').inc(5);
    const snap = (await registry.getMetricsAsJSON()) as MetricsJson;
    const once = accumulate([], snap);
    assert.ok(Array.isArray(once));
    const twice = mergeToJson([once, snap]);
    assert.equal(series(await text(twice), 'x_total', { a: '1' }), 10);
  });
});
