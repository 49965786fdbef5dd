import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import {
  backend,
  control,
  freePort,
  frontend,
  get,
  type HttpUpstream,
  httpCheck,
  lbConfig,
  metricValue,
  RustlbProcess,
  startHttpUpstream,
  waitFor,
} from '@rustlb/testkit';

// What a reload applies, and what it refuses: a broken file is rejected with every
// error and changes nothing; a valid one changes servers, weights, algorithms, headers,
// routes, health settings and the log level live; settings that need a restart are
// reported as such; requests in flight finish on the config they started with; health
// state of servers that stay is kept.

let a: HttpUpstream;
let b: HttpUpstream;
let c: HttpUpstream;
let lb: RustlbProcess;
let port: number;

/** Releases the requests held by the upstreams' `/hold` path. */
const held: (() => void)[] = [];

before(async () => {
  [a, b, c] = (await Promise.all(['a', 'b', 'c'].map((n) => startHttpUpstream(n)))) as [HttpUpstream, HttpUpstream, HttpUpstream];
  for (const u of [a, b, c]) {
    u.handler = (req, res) => {
      const answer = () => {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2, 'x-upstream': u.name });
        res.end(`${u.name}\n`);
      };
      if (req.url === '/hold') held.push(answer);
      else answer();
    };
  }
  port = await freePort();
  // Reloads only when the test asks (rustlb-ctl), so each one is accounted for.
  lb = await RustlbProcess.start({ config: base(), args: ['--no-watch'] });
});

after(async () => {
  for (const release of held.splice(0)) release();
  await lb?.dispose();
  await Promise.all([a, b, c].map((u) => u?.close()));
});

beforeEach(async () => {
  // Each test starts from the base configuration, with every upstream healthy.
  for (const u of [a, b, c]) u.healthStatus = 200;
  await reload(base());
});

type Frontend = Record<string, unknown>;
type Backend = Record<string, unknown>;

function base(front: Frontend = {}, backends: Backend[] = [], global: Record<string, unknown> = {}, pool: Backend = {}): Record<string, unknown> {
  return lbConfig({
    global: { access_log: true, ...global },
    frontends: [frontend('web', port, 'pool', front)],
    backends: [backend('pool', [a.address, b.address], pool), ...backends],
  });
}

interface ReloadJson {
  accepted: boolean;
  generation: number;
  errors: string[];
  changes: string[];
  needsRestart: string[];
  acknowledged: number[];
  pending: number[];
}

async function reload(config: Record<string, unknown>): Promise<ReloadJson> {
  lb.writeConfig(config);
  const r = await lb.ctl(['reload', '--json']);
  const out = JSON.parse(r.stdout) as ReloadJson;
  assert.equal(r.code, out.accepted && out.pending.length === 0 ? 0 : 1);
  assert.equal(out.accepted, true, r.stdout);
  return out;
}

async function names(n: number, path = '/', headers: Record<string, string> = {}): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await get(port, { path, headers });
    assert.equal(r.status, 200, r.text);
    out.push(r.text.trim());
  }
  return out;
}

const count = (list: string[], name: string) => list.filter((n) => n === name).length;

test('an invalid config is rejected with every error, logged and printed; exit 1; the old config keeps serving', async () => {
  const before = await names(4);
  const generation = (await control<{ generation: number }>(lb.socket, 'status')).generation;
  const failuresBefore = metricValue(await lb.metrics(), 'rustlb_config_reloads_total', { result: 'failure' }) ?? 0;
  lb.writeConfig({
    frontends: [
      { name: 'web', listen: `127.0.0.1:${port}`, protocol: 'http', backend: 'nowhere' },
      { name: 'web2', listen: `127.0.0.1:${port + 1}`, protocol: 'http', backend: 'pool', algorithm: 'fastest' },
    ],
    backends: [{ name: 'pool', servers: [{ address: a.address, wieght: 2 }] }],
  });
  const r = await lb.ctl(['reload']);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, new RegExp(`reload rejected: the configuration in force \\(generation ${generation}\\) is unchanged`));
  // Every problem, each with its path and line.
  assert.match(r.stderr, /error: frontends\[0\]\.backend \(line \d+\): .*nowhere/);
  assert.match(r.stderr, /error: frontends\[1\]\.algorithm \(line \d+\)/);
  assert.match(r.stderr, /error: backends\[0\]\.servers\[0\]\.wieght \(line \d+\).*weight/);
  const logged = await lb.waitForLog((l) => l.msg === 'configuration rejected; the old one stays in force' && l.trigger === 'rustlb-ctl', 'the rejection');
  assert.ok(Array.isArray(logged.errors) && logged.errors.length >= 3, JSON.stringify(logged.errors));
  assert.equal(logged.level, 'error');

  const json = await lb.ctl(['reload', '--json']);
  assert.equal(json.code, 1);
  const parsed = JSON.parse(json.stdout) as ReloadJson;
  assert.equal(parsed.accepted, false);
  assert.equal(parsed.generation, generation);
  assert.ok(parsed.errors.length >= 3);

  // Nothing changed: same generation, same servers, no listener on the second port.
  assert.deepEqual((await names(4)).sort(), before.sort());
  assert.equal((await control<{ generation: number }>(lb.socket, 'status')).generation, generation);
  await assert.rejects(get(port + 1, { timeoutMs: 2000 }), /ECONNREFUSED/);
  assert.equal(metricValue(await lb.metrics(), 'rustlb_config_reloads_total', { result: 'failure' }), failuresBefore + 2);
});

test('servers added and removed', async () => {
  assert.deepEqual(new Set(await names(6)), new Set(['a', 'b']));
  const out = await reload(base({}, [], {}, { servers: [{ address: b.address }, { address: c.address }] }));
  assert.deepEqual(out.changes, ['backend pool changed']);
  assert.deepEqual([...out.acknowledged].sort(), [0, 1]);
  // Acknowledged by every worker: from the very next request on, on any worker.
  const after = await names(10);
  assert.equal(count(after, 'a'), 0, after.join());
  assert.ok(count(after, 'b') > 0 && count(after, 'c') > 0, after.join());
});

test('weights and the algorithm', async () => {
  const even = await names(12);
  assert.equal(count(even, 'a'), 6, even.join());
  await reload(
    base(
      { algorithm: 'weighted' },
      [],
      {},
      {
        servers: [
          { address: a.address, weight: 3 },
          { address: b.address, weight: 1 },
        ],
      },
    ),
  );
  const weighted = await names(40);
  assert.ok(count(weighted, 'a') >= 27 && count(weighted, 'a') <= 33, `a served ${count(weighted, 'a')} of 40 at weight 3:1`);
  await reload(base({ algorithm: 'ip_hash' }));
  // One client address: one server, every time.
  assert.equal(new Set(await names(10)).size, 1);
});

test('request and response headers, and routes', async () => {
  await reload(
    base(
      {
        http: { request_headers: { 'X-Reload': 'two' }, response_headers: { 'X-Config': 'two' } },
        routes: [{ path_prefix: '/api', backend: 'only-c' }],
      },
      [backend('only-c', [c.address])],
    ),
  );
  const r = await get(port, { path: '/x' });
  assert.equal(r.headers['x-config'], 'two');
  const seen = [...a.requests, ...b.requests].find((q) => q.url === '/x');
  assert.equal(seen?.headers['x-reload'], 'two');
  assert.deepEqual(new Set(await names(4, '/api/v1')), new Set(['c']));
  assert.deepEqual(new Set(await names(4, '/other')), new Set(['a', 'b']));
});

test('health check settings', async () => {
  const probes = () => a.healthChecks + b.healthChecks;
  const before = probes();
  // From the default TCP connect check to HTTP GET /health twice a second.
  await reload(base({}, [], {}, { health_check: httpCheck({ interval: '500ms' }) }));
  await waitFor(() => probes() >= before + 4, 'HTTP health checks on /health');
  // They now decide health: a failing /health takes b out.
  b.healthStatus = 503;
  await waitFor(async () => {
    const s = await control<{ backends: { servers: { server: string; healthy: boolean }[] }[] }>(lb.socket, 'status');
    return s.backends[0]?.servers.find((v) => v.server === `pool/${b.address}`)?.healthy === false;
  }, 'b to be marked down by the new checks');
  assert.deepEqual(new Set(await names(6)), new Set(['a']));
});

test('health state of servers that stay survives a reload', async () => {
  await reload(base({}, [], {}, { health_check: httpCheck({ interval: '300ms', unhealthy_threshold: 1 }) }));
  b.healthStatus = 503;
  await waitFor(async () => {
    const s = await control<{ backends: { servers: { server: string; healthy: boolean }[] }[] }>(lb.socket, 'status');
    return s.backends[0]?.servers.find((v) => v.server === `pool/${b.address}`)?.healthy === false;
  }, 'b to be marked down');
  // Another change to the same backend (a new server) and to the frontend: b stays down, not reset to healthy.
  await reload(
    base(
      { http: { response_headers: { 'X-Config': 'three' } } },
      [],
      {},
      {
        servers: [{ address: a.address }, { address: b.address }, { address: c.address }],
        health_check: httpCheck({ interval: '300ms', unhealthy_threshold: 1 }),
      },
    ),
  );
  const after = await names(12);
  assert.equal(count(after, 'b'), 0, after.join());
  assert.ok(count(after, 'a') > 0 && count(after, 'c') > 0, after.join());
  const s = await control<{ backends: { servers: { server: string; healthy: boolean }[] }[] }>(lb.socket, 'status');
  assert.deepEqual(
    s.backends[0]?.servers.map((v) => [v.server.split(':').pop(), v.healthy]),
    [
      [String(a.port), true],
      [String(b.port), false],
      [String(c.port), true],
    ],
  );
});

test('the log level, in the workers and in the primary', async () => {
  const accessIds = () => new Set(lb.logs.filter((l) => l.msg === 'http request').map((l) => l.requestId as string));
  const quiet = await reload(base({}, [], { log_level: 'warn' }));
  const silent: string[] = [];
  for (let i = 0; i < 8; i++) {
    const id = `quiet-${i}`;
    await get(port, { headers: { 'X-Request-ID': id } });
    silent.push(id);
  }
  const loud = await reload(base({}, [], { log_level: 'info' }));
  // Log lines of one worker arrive in order: once both workers logged a later request,
  // any line for the earlier ones would be here already.
  let n = 0;
  await waitFor(
    async () => {
      await get(port, { headers: { 'X-Request-ID': `loud-${n++}` } });
      const workers = new Set(lb.logs.filter((l) => l.msg === 'http request' && String(l.requestId).startsWith('loud-')).map((l) => l.worker));
      return workers.size === 2;
    },
    'access lines from both workers again',
    10_000,
    1,
  );
  const ids = accessIds();
  assert.deepEqual(
    silent.filter((id) => ids.has(id)),
    [],
  );
  // The primary follows too: no info line for the reload that set warn, one for the reload back.
  assert.equal(lb.logs.filter((l) => l.msg === 'configuration reloaded' && l.generation === quiet.generation).length, 0);
  assert.equal(lb.logs.filter((l) => l.msg === 'configuration reloaded' && l.generation === loud.generation).length, 1);
});

test('settings that need a restart are reported, and keep their value', async () => {
  const out = await reload(base({}, [], { workers: 3, metrics: { path: '/other-metrics' } }));
  assert.deepEqual([...out.needsRestart].sort(), ['global.metrics', 'global.workers']);
  const human = await lb.ctl(['reload']);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /needs a restart to take effect \(kept as before\): global\.workers, global\.metrics|global\.metrics, global\.workers/);
  const s = await control<{ workers: unknown[] }>(lb.socket, 'status');
  assert.equal(s.workers.length, 2);
  assert.ok((metricValue(await lb.metrics(), 'rustlb_config_generation') ?? 0) > 0, 'metrics still at the old path');
});

test('a request in flight finishes on the config it started with', async () => {
  await reload(base({ http: { response_headers: { 'X-Config': 'one' } } }));
  const seen = a.requests.length + b.requests.length;
  const inFlight = get(port, { path: '/hold', timeoutMs: 15_000 });
  await waitFor(() => a.requests.length + b.requests.length > seen && held.length > 0, 'the request to reach an upstream');
  await reload(base({ http: { response_headers: { 'X-Config': 'two' } } }));
  assert.equal((await get(port)).headers['x-config'], 'two');
  for (const release of held.splice(0)) release();
  const r = await inFlight;
  assert.equal(r.status, 200);
  assert.equal(r.headers['x-config'], 'one');
});
