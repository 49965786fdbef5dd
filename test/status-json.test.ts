// The status page's data and its gates (issue 18): /status.json reads the same merged
// counters as /metrics; the page is served on a loopback admin address, elsewhere only
// with global.admin.status: true; its files come from rustlb itself under a strict CSP;
// actions (drain/disable/enable) go through rustlb-ctl's commands and refuse a missing
// or wrong token.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import {
  backend,
  FAST_CHECK,
  freePort,
  freePorts,
  frontend,
  get,
  type Handler,
  type HttpUpstream,
  lbConfig,
  metricValue,
  RustlbProcess,
  startHttpUpstream,
  startTcpUpstream,
  type TcpUpstream,
  tcpFrontend,
  waitFor,
  webPool,
} from '@rustlb/testkit';

const TOKEN = 'status-test-token-0123456789';

interface Histogram {
  bounds: number[];
  counts: number[];
  count: number;
  sum: number;
}
interface Responses {
  '1xx': number;
  '2xx': number;
  '3xx': number;
  '4xx': number;
  '5xx': number;
}
interface StatusJson {
  time: number;
  process: {
    version: string;
    pid: number;
    generation: number;
    configFile: string;
    uptimeSeconds: number;
    metricsEnabled: boolean;
    lastReload: { at: number; accepted: boolean; generation: number; errors: string[]; trigger: string } | null;
    reloads: { success: number; failure: number };
  };
  workers: { slot: number; pid: number; state: string; generation: number; requests: number | null; cpuPercent: number | null; rssBytes: number | null }[];
  frontends: {
    name: string;
    protocol: string;
    listen: string;
    activeConnections: number;
    connections: number;
    requests: number;
    responses: Responses;
    duration: Histogram;
  }[];
  backends: {
    name: string;
    requests: number;
    responses: Responses;
    duration: Histogram;
    servers: {
      server: string;
      address: string;
      healthy: boolean;
      since: number;
      state: string;
      weight: number;
      inFlight: number;
      lastCheck: { at: number; ok: boolean; reason: string | null } | null;
      checks: { success: number; failure: number };
      requests: number;
      responses: Responses;
      duration: Histogram;
    }[];
  }[];
  actions: boolean;
}

async function statusJson(port: number): Promise<StatusJson> {
  const r = await get(port, { path: '/status.json', timeoutMs: 5000 });
  assert.equal(r.status, 200, r.text);
  assert.match(String(r.headers['content-type']), /^application\/json/);
  return JSON.parse(r.text) as StatusJson;
}

function action(port: number, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  return get(port, {
    method: 'POST',
    path: '/status/actions',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    timeoutMs: 5000,
  }).then((r) => ({ status: r.status, body: JSON.parse(r.text) as Record<string, unknown> }));
}

const cleanup: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

async function upstream(name: string): Promise<HttpUpstream> {
  const u = await startHttpUpstream(name);
  cleanup.push(() => u.close());
  // `/status/NNN` answers NNN; anything else 200.
  u.handler = (req, res) => {
    const m = /\/status\/(\d{3})/.exec(req.url ?? '');
    const status = m === null ? 200 : Number(m[1]);
    const body = req.method === 'HEAD' ? '' : `${u.name} ${status}\n`;
    res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  return u;
}

describe('/status.json against /metrics', () => {
  let a: HttpUpstream;
  let b: HttpUpstream;
  let api: HttpUpstream;
  let echo: TcpUpstream;
  let lb: RustlbProcess;
  let web: number;
  let tcp: number;
  const config = () =>
    lbConfig({
      health_check_defaults: FAST_CHECK,
      frontends: [
        frontend('web', web, 'pool', { routes: [{ path_prefix: '/api', backend: 'api', algorithm: 'least_connections' }] }),
        tcpFrontend('tcp', tcp, 'echo'),
      ],
      backends: [backend('pool', [a.address, { address: b.address, weight: 2 }]), backend('api', [api.address]), backend('echo', [echo.address])],
    });

  before(async () => {
    a = await upstream('a');
    b = await upstream('b');
    api = await upstream('api');
    echo = await startTcpUpstream();
    cleanup.push(() => echo.close());
    [web, tcp] = await freePorts(2);
    lb = await RustlbProcess.start({ config: config(), args: ['--no-watch'] });
    cleanup.push(() => lb.dispose());
  });

  test('the same requests, statuses, connections, durations, health checks and generation', async () => {
    const paths = ['/status/200', '/status/204', '/status/302', '/status/404', '/status/500', '/api/status/200', '/api/status/503', '/status/201'];
    let sent = 0;
    for (let round = 0; round < 6; round++) {
      for (const path of paths) {
        const r = await get(web, { path });
        assert.equal(r.status, Number(path.slice(-3)));
        sent++;
      }
    }
    await new Promise<void>((resolve, reject) => {
      import('node:net').then(({ connect }) => {
        const s = connect(tcp, '127.0.0.1', () => s.end('ping'));
        s.on('error', reject);
        s.on('close', () => resolve());
        s.resume();
      }, reject);
    });
    // Settled: no connection left open (the gauge is part of what is compared).
    await waitFor(async () => metricValue(await lb.metrics(), 'rustlb_active_connections') === 0, 'connections closed');

    // Health checks go on every 200 ms: their counts are bracketed by two scrapes.
    const m1 = await lb.metrics();
    const s = await statusJson(lb.metricsPort);
    const m2 = await lb.metrics();
    const value = (text: string, name: string, labels: Record<string, string> = {}) => metricValue(text, name, labels) ?? 0;
    const exact = (name: string, labels: Record<string, string>, got: number, what: string) => {
      assert.equal(value(m1, name, labels), value(m2, name, labels), `${what} did not move between the scrapes`);
      assert.equal(got, value(m1, name, labels), what);
    };
    const classes = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
    const byClass = (text: string, labels: Record<string, string>, name = 'rustlb_requests_total') => {
      const out: Record<string, number> = { '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 };
      for (const line of text.split('\n')) {
        if (!line.startsWith(`${name}{`)) continue;
        if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
        const status = /status="(\d)(\d\d|xx)"/.exec(line)?.[1];
        out[`${status}xx`] = (out[`${status}xx`] ?? 0) + Number(line.split(' ').pop());
      }
      return out;
    };
    const histogram = (h: Histogram, labels: Record<string, string>, what: string, name = 'rustlb_request_duration_seconds') => {
      exact(`${name}_count`, labels, h.count, `${what} duration count`);
      assert.ok(Math.abs(h.sum - value(m1, `${name}_sum`, labels)) < 1e-9, `${what} duration sum`);
      for (const [i, bound] of h.bounds.entries()) {
        exact(`${name}_bucket`, { ...labels, le: String(bound) }, h.counts[i] as number, `${what} le=${bound}`);
      }
      exact(`${name}_bucket`, { ...labels, le: '+Inf' }, h.counts[h.bounds.length] as number, `${what} le=+Inf`);
    };

    const fe = s.frontends.find((f) => f.name === 'web');
    assert.ok(fe);
    assert.equal(fe.requests, sent);
    exact('rustlb_requests_total', { frontend: 'web' }, fe.requests, 'web requests');
    assert.deepEqual(fe.responses, byClass(m1, { frontend: 'web' }));
    assert.deepEqual(
      classes.map((c) => fe.responses[c]),
      [0, 6 * 4, 6, 6, 6 * 2],
    );
    exact('rustlb_connections_total', { frontend: 'web' }, fe.connections, 'web connections');
    exact('rustlb_active_connections', { frontend: 'web' }, fe.activeConnections, 'web open connections');
    assert.equal(fe.duration.bounds.length, 13, "the original's buckets");
    histogram(fe.duration, { frontend: 'web' }, 'web');
    const t = s.frontends.find((f) => f.name === 'tcp');
    assert.ok(t);
    assert.equal(t.connections, 1);
    exact('rustlb_connections_total', { frontend: 'tcp' }, t.connections, 'tcp connections');
    assert.equal(t.listen, `127.0.0.1:${tcp}`);
    assert.equal(t.protocol, 'tcp');

    for (const name of ['pool', 'api']) {
      const be = s.backends.find((x) => x.name === name);
      assert.ok(be, name);
      exact('rustlb_requests_total', { backend: name }, be.requests, `${name} requests`);
      assert.deepEqual(be.responses, byClass(m1, { backend: name }), `${name} by class`);
      histogram(be.duration, { backend: name }, name);
    }
    assert.equal(s.backends.find((x) => x.name === 'api')?.requests, 12);
    // Per server: requests by status class and durations, from rustlb_server_requests_total and
    // rustlb_server_request_duration_seconds; every request here had a server, so they add up to the backend's.
    for (const name of ['pool', 'api']) {
      const be = s.backends.find((x) => x.name === name);
      assert.ok(be, name);
      for (const v of be.servers) {
        const labels = { backend: name, server: v.address };
        exact('rustlb_server_requests_total', labels, v.requests, `${v.server} requests`);
        assert.deepEqual(v.responses, byClass(m1, labels, 'rustlb_server_requests_total'), `${v.server} by class`);
        assert.equal(v.duration.bounds.length, 15, `${v.server} buckets`);
        histogram(v.duration, labels, v.server, 'rustlb_server_request_duration_seconds');
        assert.ok(v.requests > 0, `${v.server} answered some`);
      }
      assert.equal(
        be.servers.reduce((n, v) => n + v.requests, 0),
        be.requests,
        `${name}: the servers' requests add up to the backend's`,
      );
      for (const c of classes)
        assert.equal(
          be.servers.reduce((n, v) => n + v.responses[c], 0),
          be.responses[c],
          `${name} ${c}`,
        );
      assert.equal(
        be.servers.reduce((n, v) => n + v.duration.count, 0),
        be.duration.count,
        `${name}: durations`,
      );
    }
    // TCP sessions are not requests: nothing per server for echo.
    assert.deepEqual(
      s.backends.find((x) => x.name === 'echo')?.servers.map((v) => [v.requests, v.duration.count]),
      [[0, 0]],
    );
    // Nothing in flight at rest.
    assert.ok(s.backends.every((x) => x.servers.every((v) => v.inFlight === 0)));

    const pool = s.backends.find((x) => x.name === 'pool');
    assert.ok(pool);
    assert.deepEqual(
      pool.servers.map((v) => [v.server, v.weight, v.state, v.healthy]),
      [
        [`pool/${a.address}`, 1, 'enabled', true],
        [`pool/${b.address}`, 2, 'enabled', true],
      ],
    );
    for (const v of pool.servers) {
      for (const result of ['success', 'failure'] as const) {
        // The metric's label values are the original's (`Success`, `Failure`); status.json's keys stay lower-case.
        const labels = { backend: 'pool', server: v.address, result: result === 'success' ? 'Success' : 'Failure' };
        const got = v.checks[result];
        assert.ok(
          value(m1, 'rustlb_health_checks_total', labels) <= got && got <= value(m2, 'rustlb_health_checks_total', labels),
          `${v.server} ${result} checks`,
        );
      }
      assert.equal(metricValue(m1, 'rustlb_backend_health', { backend: 'pool', server: v.address }) ?? 1, v.healthy ? 1 : 0);
      assert.ok(v.lastCheck?.ok, `${v.server} last check`);
      assert.ok(v.since <= s.time);
    }

    // Workers: what each answered, as rustlb_worker_requests_total counts it per slot (none has died).
    assert.equal(s.workers.length, 2);
    for (const w of s.workers) {
      exact('rustlb_worker_requests_total', { worker: String(w.slot) }, w.requests ?? -1, `worker ${w.slot} requests`);
      assert.equal(w.state, 'ready');
      assert.ok(w.rssBytes !== null && w.rssBytes > 0);
    }
    assert.deepEqual(s.workers.map((w) => w.pid).sort(), lb.workerPids().sort());
    exact('rustlb_config_generation', {}, s.process.generation, 'generation');
    exact('rustlb_config_reloads_total', { result: 'success' }, s.process.reloads.success, 'reloads');
    assert.equal(s.process.configFile, lb.configFile);
    assert.equal(s.process.lastReload, null);
    assert.equal(s.process.metricsEnabled, true);
    assert.equal(s.actions, false);
    const started = await lb.waitForLog((l) => l.msg === 'rustlb started', 'the start line');
    assert.equal(started.statusPage, `http://127.0.0.1:${lb.metricsPort}/status`);
  });

  test('requests in flight per server, over every worker, whatever the algorithm', async () => {
    // b holds what it gets until released; round_robin over a (weight 1) and b (weight 2, but
    // round_robin ignores weights): of 6 requests on fresh connections, some land on b.
    const held: (() => void)[] = [];
    const answer = b.handler as Handler;
    b.handler = (req, res, body) => {
      held.push(() => answer(req, res, body));
    };
    try {
      const pending = Array.from({ length: 6 }, () => get(web, { path: '/status/200', timeoutMs: 20_000 }));
      const s = await waitFor(
        async () => {
          const j = await statusJson(lb.metricsPort);
          const v = j.backends.find((x) => x.name === 'pool')?.servers.find((x) => x.address === b.address);
          return v !== undefined && v.inFlight === held.length && held.length > 0 ? j : null;
        },
        'the held requests in flight on b',
        10_000,
        100,
      );
      const pool = s.backends.find((x) => x.name === 'pool');
      assert.equal(pool?.servers.find((x) => x.address === a.address)?.inFlight, 0);
      for (const release of held.splice(0)) release();
      await Promise.all(pending);
      await waitFor(async () => (await statusJson(lb.metricsPort)).backends.every((x) => x.servers.every((v) => v.inFlight === 0)), 'nothing in flight');
    } finally {
      b.handler = answer;
      for (const release of held.splice(0)) release();
    }
  });

  test('a rejected reload is shown with its error, an accepted one with its generation', async () => {
    const first = await statusJson(lb.metricsPort);
    writeFileSync(lb.configFile, 'frontends: []\nbackends: [ { name: pool, servers: [] } ]\nnonsense: 1\n');
    const bad = await lb.ctl(['reload']);
    assert.notEqual(bad.code, 0);
    let s = await waitFor(async () => {
      const j = await statusJson(lb.metricsPort);
      return j.process.lastReload?.accepted === false ? j : null;
    }, 'the rejected reload in status.json');
    assert.equal(s.process.generation, 1);
    assert.ok((s.process.lastReload?.errors.length ?? 0) > 0);
    assert.match(s.process.lastReload?.errors.join('\n') ?? '', /nonsense/);
    assert.equal(s.process.reloads.failure, metricValue(await lb.metrics(), 'rustlb_config_reloads_total', { result: 'failure' }));
    lb.writeConfig(config());
    const good = await lb.ctl(['reload']);
    assert.equal(good.code, 0, good.stderr);
    s = await waitFor(async () => {
      const j = await statusJson(lb.metricsPort);
      return j.process.lastReload?.accepted === true ? j : null;
    }, 'the accepted reload in status.json');
    assert.equal(s.process.generation, 2);
    assert.equal(s.process.lastReload?.generation, 2);
    assert.equal(s.process.lastReload?.trigger, 'rustlb-ctl');
    assert.ok(s.workers.every((w) => w.generation === 2));
    // Per-server counters live with the server, not the generation: the same after the reload.
    const perServer = (j: StatusJson) => j.backends.find((x) => x.name === 'pool')?.servers.map((v) => [v.address, v.requests, v.duration.count]);
    assert.deepEqual(perServer(s), perServer(first));
    assert.ok((perServer(s) ?? []).every(([, n]) => (n as number) > 0));
    // A worker killed: what it counted per server stays (the primary keeps it), none counted twice.
    const respawns = lb.logs.filter((l) => l.msg === 'worker respawned').length;
    process.kill(lb.workerPids()[0] as number, 'SIGKILL');
    await waitFor(async () => lb.logs.filter((l) => l.msg === 'worker respawned').length > respawns, 'the killed worker respawned', 20_000);
    await lb.waitReady();
    const killed = await waitFor(async () => {
      const j = await statusJson(lb.metricsPort);
      return j.workers.every((w) => w.state === 'ready') ? j : null;
    }, 'both workers ready in status.json');
    assert.deepEqual(perServer(killed), perServer(first));
    // A server removed by a reload: its series go from /metrics and status.json, what the dead
    // worker counted for it included; the other's stay.
    lb.writeConfig({ ...config(), backends: config().backends.map((x) => (x.name === 'pool' ? { ...x, servers: [{ address: a.address }] } : x)) });
    const removed = await lb.ctl(['reload']);
    assert.equal(removed.code, 0, removed.stderr);
    const m = await waitFor(async () => {
      const text = await lb.metrics();
      return metricValue(text, 'rustlb_config_generation') === 3 && metricValue(text, 'rustlb_server_requests_total', { server: b.address }) === null
        ? text
        : null;
    }, 'b gone from the per-server metrics');
    assert.equal(metricValue(m, 'rustlb_server_request_duration_seconds_count', { server: b.address }), null);
    assert.equal(metricValue(m, 'rustlb_server_requests_total', { backend: 'pool', server: a.address }), perServer(first)?.[0]?.[1]);
    // (status.json shares a measurement for 250 ms: the one after the reload.)
    const after = await waitFor(async () => {
      const j = await statusJson(lb.metricsPort);
      return j.process.generation === 3 && perServer(j)?.length === 1 ? j : null;
    }, 'b gone from status.json');
    assert.deepEqual(perServer(after), [perServer(first)?.[0]]);
  });
});

describe('where the page is served, and what it loads', () => {
  test('on a loopback admin address: the page, its files from rustlb itself, a strict CSP', async () => {
    const up = await upstream('one');
    const port = await freePort();
    const lb = await RustlbProcess.start({
      config: webPool(port, [up.address]),
      workers: 1,
      args: ['--no-watch'],
    });
    cleanup.push(() => lb.dispose());
    const page = await get(lb.metricsPort, { path: '/status' });
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    const csp = String(page.headers['content-security-policy']);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /style-src 'self'(;|$)/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
    // No inline script or style, nothing from another origin.
    assert.doesNotMatch(page.text, /<script(?![^>]*\bsrc=)[^>]*>/i);
    assert.doesNotMatch(page.text, /<style|\sstyle=|\son[a-z]+=/i);
    assert.doesNotMatch(page.text, /(src|href)="(https?:)?\/\//i);
    const refs = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] as string).filter((r) => !r.startsWith('data:'));
    assert.deepEqual(refs.filter((r) => r.startsWith('status/')).sort(), ['status/status.css', 'status/status.js', 'status/uplot.css', 'status/uplot.js']);
    for (const ref of refs) {
      const r = await get(lb.metricsPort, { path: `/${ref}` });
      assert.equal(r.status, 200, ref);
      if (ref.endsWith('.js')) assert.match(String(r.headers['content-type']), /^text\/javascript/, ref);
      if (ref.endsWith('.css')) assert.match(String(r.headers['content-type']), /^text\/css/, ref);
    }
    // The chart library is uPlot from the package rustlb bundles (no CDN).
    const uplot = await get(lb.metricsPort, { path: '/status/uplot.js' });
    const require = createRequire(import.meta.url);
    assert.deepEqual(uplot.body, readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js')));
    assert.equal((await get(lb.metricsPort, { path: '/status/nothing.js' })).status, 404);
    const slash = await get(lb.metricsPort, { path: '/status/' });
    assert.equal(slash.status, 308);
    assert.equal(slash.headers.location, '/status');
    assert.equal((await get(lb.metricsPort, { path: '/status', method: 'DELETE' })).status, 405);
    // Actions are off by default.
    const off = await action(lb.metricsPort, { action: 'drain', server: `pool/${up.address}` }, { 'x-rustlb-token': 'anything-at-all-really' });
    assert.equal(off.status, 403);
    assert.match(String(off.body.error), /status_actions/);
  });

  test('on a non-loopback admin address only with global.admin.status: true; false turns it off anywhere', async () => {
    const up = await upstream('two');
    const [port, admin] = await freePorts(2);
    const config = (status?: boolean) =>
      webPool(port, [up.address], { global: { metrics: { address: `0.0.0.0:${admin}` }, admin: status === undefined ? {} : { status } } });
    const lb = await RustlbProcess.start({ config: config(), workers: 1, args: ['--no-watch'] });
    cleanup.push(() => lb.dispose());
    assert.equal((await lb.waitForLog((l) => l.msg === 'rustlb started', 'the start line')).statusPage, 'off');
    const paths = ['/status', '/status.json', '/status/status.js', '/status/uplot.js'];
    for (const path of paths) {
      const r = await get(admin, { path });
      assert.equal(r.status, 404, path);
      assert.match(r.text, /global\.admin\.status: true/);
    }
    // The rest of the admin address is unaffected.
    assert.equal((await get(admin, { path: '/metrics' })).status, 200);
    assert.equal((await get(admin, { path: '/readyz' })).status, 200);
    // The setting follows a reload (the address itself needs a restart, and stays).
    const reload = async (status: boolean) => {
      writeFileSync(lb.configFile, JSON.stringify({ ...config(status), global: { ...config(status).global, admin: { socket: lb.socket, status } } }));
      const r = await lb.ctl(['reload']);
      assert.equal(r.code, 0, r.stderr);
    };
    await reload(true);
    for (const path of paths) assert.equal((await get(admin, { path })).status, 200, path);
    await reload(false);
    for (const path of paths) {
      const r = await get(admin, { path });
      assert.equal(r.status, 404, path);
      assert.match(r.text, /global\.admin\.status: false/);
    }
  });
});

describe('actions', () => {
  let lb: RustlbProcess;
  let a: HttpUpstream;
  let server: string;

  before(async () => {
    a = await upstream('acted');
    const port = await freePort();
    lb = await RustlbProcess.start({
      config: webPool(port, [a.address], { global: { admin: { status_actions: true, token: TOKEN } } }),
      workers: 1,
      args: ['--no-watch'],
    });
    cleanup.push(() => lb.dispose());
    server = `pool/${a.address}`;
  });

  const state = async () => (await statusJson(lb.metricsPort)).backends[0]?.servers[0]?.state;

  test('a missing or wrong token is refused, and nothing changes', async () => {
    assert.equal((await statusJson(lb.metricsPort)).actions, true);
    const missing = await action(lb.metricsPort, { action: 'drain', server });
    assert.equal(missing.status, 401);
    assert.match(String(missing.body.error), /x-rustlb-token/i);
    const empty = await action(lb.metricsPort, { action: 'drain', server }, { 'x-rustlb-token': '' });
    assert.equal(empty.status, 401);
    for (const wrong of [`${TOKEN}x`, TOKEN.slice(0, -1), TOKEN.toUpperCase(), 'x'.repeat(TOKEN.length)]) {
      const r = await action(lb.metricsPort, { action: 'drain', server }, { 'x-rustlb-token': wrong });
      assert.equal(r.status, 403, wrong);
      assert.equal(r.body.error, 'wrong token');
    }
    assert.equal(await state(), 'enabled');
    const ctl = await lb.ctl(['status', '--json']);
    assert.doesNotMatch(ctl.stdout, /"drain"/);
    assert.ok(lb.logs.some((l) => l.msg === 'status page action refused: wrong token'));
    // Only POST; a form post (not JSON) is refused.
    assert.equal((await get(lb.metricsPort, { path: '/status/actions' })).status, 405);
    const form = await get(lb.metricsPort, {
      method: 'POST',
      path: '/status/actions',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-rustlb-token': TOKEN },
      body: `action=drain&server=${encodeURIComponent(server)}`,
    });
    assert.equal(form.status, 415);
    // No CORS: a page of another origin cannot send the token header (its preflight gets no allowance).
    const preflight = await get(lb.metricsPort, {
      method: 'OPTIONS',
      path: '/status/actions',
      headers: { origin: 'http://evil.example', 'access-control-request-headers': 'x-rustlb-token' },
    });
    assert.equal(preflight.headers['access-control-allow-origin'], undefined);
    assert.equal(await state(), 'enabled');
  });

  test('with the token: drain, disable and enable through rustlb-ctl’s commands', async () => {
    const ok = { 'x-rustlb-token': TOKEN };
    for (const act of ['drain', 'disable', 'enable'] as const) {
      const r = await action(lb.metricsPort, { action: act, server }, ok);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const expected = act === 'drain' ? 'drain' : act === 'disable' ? 'disabled' : 'enabled';
      assert.deepEqual(r.body, { ok: true, result: { server, state: expected } });
      assert.equal(await waitFor(async () => ((await state()) === expected ? expected : null), `${act} in status.json`), expected);
      // The same state rustlb-ctl sees, set by the same code (its log line).
      const ctl = await lb.ctl(['status', '--json']);
      assert.equal(ctl.code, 0, ctl.stderr);
      const parsed = JSON.parse(ctl.stdout) as { backends: { servers: { server: string; state: string }[] }[] };
      assert.equal(parsed.backends[0]?.servers[0]?.state, expected);
      await lb.waitForLog((l) => l.msg === 'server state set by operator' && l.server === server && l.state === expected, `${act} logged`);
    }
    // rustlb-ctl's own refusals come back as they are.
    const unknown = await action(lb.metricsPort, { action: 'drain', server: 'pool/10.9.9.9:1' }, ok);
    assert.equal(unknown.status, 409);
    assert.match(String(unknown.body.error), /no server pool\/10\.9\.9\.9:1/);
    const malformed = await action(lb.metricsPort, { action: 'drain', server: 'nobackend' }, ok);
    assert.equal(malformed.status, 400);
    const restart = await action(lb.metricsPort, { action: 'restart-workers', server }, ok);
    assert.equal(restart.status, 400);
    assert.match(String(restart.body.error), /drain, disable, enable/);
  });

  test('status_actions without a token: no actions, and a warning at start', async () => {
    const up = await upstream('tokenless');
    const port = await freePort();
    const lb2 = await RustlbProcess.start({
      config: webPool(port, [up.address], { global: { admin: { status_actions: true } } }),
      workers: 1,
      args: ['--no-watch'],
    });
    cleanup.push(() => lb2.dispose());
    assert.equal((await statusJson(lb2.metricsPort)).actions, false);
    const r = await action(lb2.metricsPort, { action: 'drain', server: `pool/${up.address}` }, { 'x-rustlb-token': 'whatever-whatever-whatever' });
    assert.equal(r.status, 403);
    assert.match(String(r.body.error), /global\.admin\.token/);
    await lb2.waitForLog((l) => l.level === 'warn' && /status_actions is on without global\.admin\.token/.test(String(l.msg)), 'the warning');
  });

  test('a token shorter than 16 characters is a configuration error', async () => {
    const port = await freePort();
    const r = await RustlbProcess.start({
      config: webPool(port, [a.address], { global: { admin: { status_actions: true, token: 'short' } } }),
      workers: 1,
      waitReady: false,
    });
    cleanup.push(() => r.dispose());
    const exit = await r.exited;
    assert.notEqual(exit.code, 0);
    assert.match(r.stderr + r.strayLines.join('\n') + JSON.stringify(r.logs), /global\.admin\.token/);
  });
});
