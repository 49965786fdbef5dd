// Metrics served by the primary, merged over 2 workers (SPEC §5): exact counts and
// labels, bytes as the client saw them, connections, health, process usage, config
// events, and the names and types of every metric.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  backend,
  FAST_CHECK,
  freePorts,
  frontend,
  get,
  type HttpUpstream,
  httpCheck,
  lbConfig,
  metricValue,
  parseMetrics,
  RawConnection,
  RustlbProcess,
  samplesOf,
  startHttpUpstream,
  startTcpUpstream,
  type TcpUpstream,
  tcpFrontend,
  waitFor,
} from '@rustlb/testkit';

let a: HttpUpstream;
let api: HttpUpstream;
let flaky: HttpUpstream;
let echo: TcpUpstream;
let lb: RustlbProcess;
let web: number;
let bytesPort: number;
let conns: number;
let tcp: number;
let flakyPort: number;

function config(algorithm = 'round_robin'): Record<string, unknown> {
  return lbConfig({
    frontends: [
      frontend('web', web, 'pool', { algorithm, routes: [{ path_prefix: '/api', backend: 'api' }] }),
      frontend('bytes', bytesPort, 'pool'),
      frontend('conns', conns, 'pool'),
      tcpFrontend('tcp', tcp, 'echo'),
      frontend('flakyweb', flakyPort, 'flaky'),
    ],
    backends: [
      backend('pool', [a.address]),
      backend('api', [api.address]),
      backend('echo', [echo.address]),
      backend('flaky', [flaky.address], { health_check: httpCheck(FAST_CHECK) }),
    ],
  });
}

/** Answers `/status/NNN` with that status; anything else 200. */
function statusHandler(up: HttpUpstream): void {
  up.handler = (req, res) => {
    const m = /^\/(?:api\/)?status\/(\d{3})/.exec(req.url ?? '');
    const status = m === null ? 200 : Number(m[1]);
    const body = status === 204 || status === 304 || req.method === 'HEAD' ? '' : `${up.name} ${status}\n`;
    res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
}

before(async () => {
  a = await startHttpUpstream('a');
  api = await startHttpUpstream('api');
  flaky = await startHttpUpstream('flaky');
  echo = await startTcpUpstream();
  statusHandler(a);
  statusHandler(api);
  [web, bytesPort, conns, tcp, flakyPort] = await freePorts(5);
  lb = await RustlbProcess.start({ config: config(), args: ['--no-watch'] });
});

after(async () => {
  await lb?.dispose();
  await Promise.all([a?.close(), api?.close(), flaky?.close(), echo?.close()]);
});

/** Worker slot → access lines of frontend `fe` it logged. */
function accessByWorker(fe: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const l of lb.logs) if (l.msg === 'http request' && l.frontend === fe) out.set(l.worker as number, (out.get(l.worker as number) ?? 0) + 1);
  return out;
}

describe('metric names and types are those of SPEC §5', () => {
  test('every metric is present with its # TYPE', async () => {
    // Something for every family: one request on web (histogram, requests), a TCP session.
    await get(web, { path: '/' });
    const s = parseMetrics(await lb.metrics());
    const expected: Record<string, string> = {
      rustlb_requests_total: 'counter',
      rustlb_request_duration_seconds: 'histogram',
      rustlb_server_requests_total: 'counter',
      rustlb_server_request_duration_seconds: 'histogram',
      rustlb_active_connections: 'gauge',
      rustlb_connections_total: 'counter',
      rustlb_bytes_total: 'counter',
      rustlb_backend_health: 'gauge',
      rustlb_health_checks_total: 'counter',
      rustlb_process_cpu_percent: 'gauge',
      rustlb_process_resident_memory_bytes: 'gauge',
      rustlb_worker_requests_total: 'counter',
      rustlb_worker_restarts_total: 'counter',
      rustlb_config_reloads_total: 'counter',
      rustlb_config_generation: 'gauge',
      rustlb_config_last_reload_success_timestamp_seconds: 'gauge',
      rustlb_metrics_scrape_errors_total: 'counter',
    };
    for (const [name, type] of Object.entries(expected)) assert.equal(s.types.get(name), type, `# TYPE ${name}`);
    // Nothing else: no default process metrics of prom-client, no stray families.
    assert.deepEqual([...s.types.keys()].sort(), Object.keys(expected).sort());
    for (const name of Object.keys(expected)) assert.ok((s.help.get(name) ?? '').length > 10, `# HELP ${name}`);
    // Label names of each family.
    const labelsOf = (name: string) => new Set(samplesOf(s, name).flatMap((x) => Object.keys(x.labels)));
    assert.deepEqual(labelsOf('rustlb_requests_total'), new Set(['frontend', 'backend', 'method', 'status']));
    assert.deepEqual(labelsOf('rustlb_request_duration_seconds_bucket'), new Set(['frontend', 'backend', 'le']));
    assert.deepEqual(labelsOf('rustlb_server_requests_total'), new Set(['backend', 'server', 'status']));
    assert.deepEqual(labelsOf('rustlb_server_request_duration_seconds_bucket'), new Set(['backend', 'server', 'le']));
    assert.deepEqual(labelsOf('rustlb_active_connections'), new Set(['frontend', 'backend']));
    assert.deepEqual(labelsOf('rustlb_connections_total'), new Set(['frontend', 'backend']));
    assert.deepEqual(labelsOf('rustlb_bytes_total'), new Set(['frontend', 'backend', 'direction']));
    assert.deepEqual(labelsOf('rustlb_backend_health'), new Set(['backend', 'server']));
    assert.deepEqual(labelsOf('rustlb_health_checks_total'), new Set(['backend', 'server', 'result']));
    assert.deepEqual(labelsOf('rustlb_process_cpu_percent'), new Set(['role', 'worker']));
    assert.deepEqual(labelsOf('rustlb_worker_requests_total'), new Set(['worker']));
    assert.deepEqual(labelsOf('rustlb_config_reloads_total'), new Set(['result']));
    assert.deepEqual(labelsOf('rustlb_worker_restarts_total'), new Set());
    assert.deepEqual(new Set(samplesOf(s, 'rustlb_bytes_total').map((x) => x.labels.direction)), new Set(['Inbound', 'Outbound']));
  });
});

describe("the original's seven metrics keep its label values and buckets (issue 16)", () => {
  // What the original (prometheus-client 0.22) exposes: exponential_buckets(0.001, 2.5, 13),
  // and its enum variants as label values.
  const ORIGINAL_LE = [
    '0.001',
    '0.0025',
    '0.00625',
    '0.015625',
    '0.0390625',
    '0.09765625',
    '0.244140625',
    '0.6103515625',
    '1.52587890625',
    '3.814697265625',
    '9.5367431640625',
    '23.84185791015625',
    '59.604644775390625',
    '+Inf',
  ];
  const RUSTLB_LE = ['0.001', '0.0025', '0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '30', '60', '+Inf'];

  test("rustlb_request_duration_seconds has the original's buckets; rustlb_bytes_total and rustlb_health_checks_total its label values", async () => {
    await get(web, { path: '/' });
    await waitFor(
      async () => (metricValue(await lb.metrics(), 'rustlb_health_checks_total', { backend: 'flaky', result: 'Success' }) ?? 0) >= 1,
      'a successful probe counted as result="Success"',
      15_000,
    );
    const s = parseMetrics(await lb.metrics());
    const les = (name: string, labels: Record<string, string>) =>
      samplesOf(s, name)
        .filter((x) => Object.entries(labels).every(([k, v]) => x.labels[k] === v))
        .map((x) => x.labels.le);
    assert.deepEqual(les('rustlb_request_duration_seconds_bucket', { frontend: 'web', backend: 'pool' }), ORIGINAL_LE);
    assert.deepEqual(new Set(samplesOf(s, 'rustlb_bytes_total').map((x) => x.labels.direction)), new Set(['Inbound', 'Outbound']));
    const results = new Set(samplesOf(s, 'rustlb_health_checks_total').map((x) => x.labels.result));
    assert.ok(results.has('Success'), [...results].join());
    for (const r of results) assert.ok(r === 'Success' || r === 'Failure', r);
    // rustlb's own metrics stay in the Prometheus style.
    const server = samplesOf(s, 'rustlb_server_request_duration_seconds_bucket')[0]?.labels ?? {};
    assert.deepEqual(les('rustlb_server_request_duration_seconds_bucket', { backend: server.backend ?? '', server: server.server ?? '' }), RUSTLB_LE);
    assert.deepEqual(new Set(samplesOf(s, 'rustlb_config_reloads_total').map((x) => x.labels.result)), new Set(['success', 'failure']));
  });
});

describe('requests', () => {
  test('N requests spread over 2 workers are counted exactly once, with their frontend, backend, method and status', async () => {
    const beforeText = await lb.metrics();
    const before = parseMetrics(beforeText);
    const webBefore = metricValue(beforeText, 'rustlb_requests_total', { frontend: 'web' }) ?? 0;
    const durationBefore = metricValue(beforeText, 'rustlb_request_duration_seconds_count', { frontend: 'web' }) ?? 0;
    const workersBefore = new Map(samplesOf(before, 'rustlb_worker_requests_total').map((x) => [x.labels.worker, x.value]));
    const logsBefore = accessByWorker('web');
    const sent = new Map<string, number>();
    const count = (backend: string, method: string, status: number) => {
      const k = `${backend} ${method} ${status}`;
      sent.set(k, (sent.get(k) ?? 0) + 1);
    };
    const plan: { method: string; path: string; label: string; status: number; backend: string; body?: string }[] = [
      { method: 'GET', path: '/status/200', label: 'GET', status: 200, backend: 'pool' },
      { method: 'GET', path: '/status/404', label: 'GET', status: 404, backend: 'pool' },
      { method: 'POST', path: '/status/201', label: 'POST', status: 201, backend: 'pool', body: 'x'.repeat(100) },
      { method: 'DELETE', path: '/status/500', label: 'DELETE', status: 500, backend: 'pool' },
      { method: 'HEAD', path: '/status/200', label: 'HEAD', status: 200, backend: 'pool' },
      // A method Node parses that is not one of the nine: OTHER, so clients cannot grow the label set.
      { method: 'PROPFIND', path: '/status/207', label: 'OTHER', status: 207, backend: 'pool' },
      { method: 'PATCH', path: '/api/status/200', label: 'PATCH', status: 200, backend: 'api' },
      { method: 'GET', path: '/api/status/503', label: 'GET', status: 503, backend: 'api' },
    ];
    // Each on a new connection, so the kernel spreads them; go on until both workers answered some.
    let n = 0;
    const deadline = Date.now() + 30_000;
    for (;;) {
      for (const p of plan) {
        const r = await get(web, { method: p.method, path: p.path, ...(p.body === undefined ? {} : { body: p.body }) });
        assert.equal(r.status, p.status);
        count(p.backend, p.label, p.status);
        n++;
      }
      const byWorker = accessByWorker('web');
      const grew = [0, 1].every((w) => (byWorker.get(w) ?? 0) > (logsBefore.get(w) ?? 0));
      if ((grew && n >= 40) || Date.now() > deadline) break;
    }
    const text = await lb.metrics();
    const s = parseMetrics(text);
    for (const [k, v] of sent) {
      const [backend, method, status] = k.split(' ') as [string, string, string];
      const base = metricValue(beforeText, 'rustlb_requests_total', { frontend: 'web', backend, method, status }) ?? 0;
      assert.equal(metricValue(text, 'rustlb_requests_total', { frontend: 'web', backend, method, status }), base + v, k);
    }
    assert.equal(metricValue(text, 'rustlb_requests_total', { frontend: 'web' }), webBefore + n);
    // No series with a method outside the bounded set, and status is the code.
    for (const x of samplesOf(s, 'rustlb_requests_total')) {
      assert.ok(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH', 'OTHER'].includes(x.labels.method as string), x.labels.method);
      assert.match(x.labels.status as string, /^\d{3}$/);
    }
    assert.equal(metricValue(text, 'rustlb_request_duration_seconds_count', { frontend: 'web' }), durationBefore + n);
    assert.equal(
      metricValue(text, 'rustlb_request_duration_seconds_bucket', { frontend: 'web', le: '+Inf' }),
      metricValue(text, 'rustlb_request_duration_seconds_count', { frontend: 'web' }),
    );
    // Per worker: what each worker logged is what the scrape says it answered.
    const byWorker = accessByWorker('web');
    assert.ok(
      [0, 1].every((w) => (byWorker.get(w) ?? 0) > (logsBefore.get(w) ?? 0)),
      `both workers answered: ${JSON.stringify([...byWorker])}`,
    );
    let workerSum = 0;
    for (const w of [0, 1]) {
      const got = (metricValue(text, 'rustlb_worker_requests_total', { worker: String(w) }) ?? 0) - (workersBefore.get(String(w)) ?? 0);
      assert.equal(got, (byWorker.get(w) ?? 0) - (logsBefore.get(w) ?? 0), `worker ${w}`);
      workerSum += got;
    }
    assert.equal(workerSum, n);
    // Per server (each backend has one here): by status class, the same requests.
    for (const [backend, server] of [
      ['pool', a.address],
      ['api', api.address],
    ] as const) {
      for (const cls of ['1xx', '2xx', '3xx', '4xx', '5xx']) {
        let want = 0;
        for (const [k, v] of sent) if (k.startsWith(`${backend} `) && k.split(' ')[2]?.[0] === cls[0]) want += v;
        const labels = { backend, server, status: cls };
        const got = (metricValue(text, 'rustlb_server_requests_total', labels) ?? 0) - (metricValue(beforeText, 'rustlb_server_requests_total', labels) ?? 0);
        assert.equal(got, want, `${backend} ${server} ${cls}`);
      }
      const count = (t: string) => metricValue(t, 'rustlb_server_request_duration_seconds_count', { backend, server }) ?? 0;
      const total = [...sent].filter(([k]) => k.startsWith(`${backend} `)).reduce((x, [, v]) => x + v, 0);
      assert.equal(count(text) - count(beforeText), total, `${backend} duration count`);
    }
    for (const x of samplesOf(s, 'rustlb_server_requests_total')) assert.match(x.labels.status as string, /^[1-9]xx$/);
  });

  test('the duration histogram puts a slow request in the right bucket', async () => {
    try {
      const before = await lb.metrics();
      api.handler = (_req, res) => {
        setTimeout(() => res.end('slow\n'), 300);
      };
      const r = await get(web, { path: '/api/slow' });
      assert.equal(r.status, 200);
      const after = await lb.metrics();
      const le = (t: string, le: string) => metricValue(t, 'rustlb_request_duration_seconds_bucket', { frontend: 'web', backend: 'api', le }) ?? 0;
      // Not in any bucket up to 0.244 s, in the 0.61 s one (the original's buckets).
      assert.equal(le(after, '0.244140625') - le(before, '0.244140625'), 0);
      assert.equal(le(after, '0.6103515625') - le(before, '0.6103515625'), 1);
      assert.equal(le(after, '+Inf') - le(before, '+Inf'), 1);
      const sum = (t: string) => metricValue(t, 'rustlb_request_duration_seconds_sum', { frontend: 'web', backend: 'api' }) ?? 0;
      assert.ok(sum(after) - sum(before) >= 0.29, `duration sum grew by ${sum(after) - sum(before)}`);
    } finally {
      statusHandler(api);
    }
  });
});

describe('bytes', () => {
  test('HTTP: inbound = bytes the clients sent, outbound = bytes they received (keep-alive, bodies, a rejected request)', async () => {
    let sent = 0;
    let received = 0;
    for (let i = 0; i < 6; i++) {
      const c = await RawConnection.open(bytesPort);
      const body = 'b'.repeat(37 * i);
      c.write(`POST /status/200 HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      await c.read();
      c.write('GET /status/404 HTTP/1.1\r\nHost: x\r\nX-Pad: 123456789\r\n\r\n');
      await c.read();
      c.write('HEAD /status/200 HTTP/1.1\r\nHost: x\r\n\r\n');
      await c.read({ head: true });
      // The client closes: its last bytes are accounted when the connection ends.
      c.socket.end();
      await c.closed;
      await waitFor(() => c.socket.destroyed || c.socket.readableEnded, 'socket closed');
      sent += c.socket.bytesWritten;
      received += c.socket.bytesRead;
    }
    // A request Node's parser refuses (an unknown method): rustlb's 400 and its bytes count too.
    const bad = await RawConnection.open(bytesPort);
    bad.write('FOO / HTTP/1.1\r\nHost: x\r\n\r\n');
    const res = await bad.read();
    assert.equal(res.status, 400);
    await bad.closed;
    sent += bad.socket.bytesWritten;
    received += bad.socket.bytesRead;
    await waitFor(
      async () => {
        const t = await lb.metrics();
        const inbound = metricValue(t, 'rustlb_bytes_total', { frontend: 'bytes', direction: 'Inbound' });
        const outbound = metricValue(t, 'rustlb_bytes_total', { frontend: 'bytes', direction: 'Outbound' });
        if (inbound !== sent || outbound !== received)
          throw new Error(`inbound ${inbound} (client sent ${sent}), outbound ${outbound} (client received ${received})`);
        return true;
      },
      'bytes_total to equal what the clients sent and received',
      10_000,
      100,
    );
    const t = await lb.metrics();
    assert.equal(metricValue(t, 'rustlb_requests_total', { frontend: 'bytes' }), 19);
    assert.equal(metricValue(t, 'rustlb_requests_total', { frontend: 'bytes', method: 'OTHER', status: '400' }), 1);
    assert.equal(metricValue(t, 'rustlb_connections_total', { frontend: 'bytes' }), 7);
  });

  test('TCP: inbound = bytes the client sent, outbound = bytes it received; sessions counted', async () => {
    let sent = 0;
    let received = 0;
    const sessions = 5;
    for (let i = 0; i < sessions; i++) {
      const payload = Buffer.alloc(1000 * (i + 1) + 7, i);
      const got = await new Promise<number>((resolve, reject) => {
        const s = connect(tcp, '127.0.0.1');
        let n = 0;
        s.on('data', (c: Buffer) => {
          n += c.length;
          // Echoed in full: close our side.
          if (n === payload.length) s.end();
        });
        s.on('error', reject);
        s.on('close', () => resolve(n));
        s.on('connect', () => s.write(payload));
      });
      assert.equal(got, payload.length);
      sent += payload.length;
      received += got;
    }
    await waitFor(
      async () => {
        const t = await lb.metrics();
        const inbound = metricValue(t, 'rustlb_bytes_total', { frontend: 'tcp', backend: 'echo', direction: 'Inbound' });
        const outbound = metricValue(t, 'rustlb_bytes_total', { frontend: 'tcp', backend: 'echo', direction: 'Outbound' });
        if (inbound !== sent || outbound !== received) throw new Error(`inbound ${inbound}/${sent}, outbound ${outbound}/${received}`);
        return true;
      },
      'TCP bytes_total',
      10_000,
      100,
    );
    const t = await lb.metrics();
    assert.equal(metricValue(t, 'rustlb_connections_total', { frontend: 'tcp', backend: 'echo' }), sessions);
    assert.equal(metricValue(t, 'rustlb_active_connections', { frontend: 'tcp', backend: 'echo' }), 0);
    // TCP sessions are not requests.
    assert.equal(metricValue(t, 'rustlb_requests_total', { frontend: 'tcp' }), null);
  });
});

describe('connections', () => {
  test('active connections rise while clients hold them open and fall when they leave; connections_total counts each', async () => {
    const open: RawConnection[] = [];
    const k = 6;
    try {
      for (let i = 0; i < k; i++) {
        const c = await RawConnection.open(conns);
        c.write('GET /status/200 HTTP/1.1\r\nHost: x\r\n\r\n');
        await c.read();
        open.push(c);
      }
      await waitFor(
        async () => metricValue(await lb.metrics(), 'rustlb_active_connections', { frontend: 'conns', backend: 'pool' }) === k,
        `${k} active`,
        10_000,
        50,
      );
      const text = await lb.metrics();
      assert.equal(metricValue(text, 'rustlb_connections_total', { frontend: 'conns', backend: 'pool' }), k);
      // A TCP session is active while it is open.
      const s = connect(tcp, '127.0.0.1');
      s.on('error', () => {});
      await waitFor(
        async () => metricValue(await lb.metrics(), 'rustlb_active_connections', { frontend: 'tcp', backend: 'echo' }) === 1,
        'a TCP session active',
        10_000,
        50,
      );
      s.destroy();
      await waitFor(
        async () => metricValue(await lb.metrics(), 'rustlb_active_connections', { frontend: 'tcp', backend: 'echo' }) === 0,
        'no TCP session active',
        10_000,
        50,
      );
    } finally {
      for (const c of open) c.socket.destroy();
    }
    await waitFor(
      async () => metricValue(await lb.metrics(), 'rustlb_active_connections', { frontend: 'conns', backend: 'pool' }) === 0,
      'no active connections',
      10_000,
      50,
    );
    assert.equal(metricValue(await lb.metrics(), 'rustlb_connections_total', { frontend: 'conns', backend: 'pool' }), k);
  });
});

describe('health', () => {
  test('rustlb_backend_health flips with a health change; rustlb_health_checks_total counts probes by result', async () => {
    const server = flaky.address;
    const health = async () => metricValue(await lb.metrics(), 'rustlb_backend_health', { backend: 'flaky', server });
    assert.equal(await health(), 1);
    await waitFor(
      async () => (metricValue(await lb.metrics(), 'rustlb_health_checks_total', { backend: 'flaky', server, result: 'Success' }) ?? 0) >= 2,
      'successful probes',
    );
    flaky.healthStatus = 503;
    await waitFor(async () => (await health()) === 0, 'backend_health 0', 10_000, 50);
    const down = await lb.metrics();
    assert.ok((metricValue(down, 'rustlb_health_checks_total', { backend: 'flaky', server, result: 'Failure' }) ?? 0) >= 1);
    // Once per server per interval in the primary, not once per worker: the upstream saw as many probes as were counted (± the one in flight).
    const counted = (metricValue(down, 'rustlb_health_checks_total', { backend: 'flaky', server }) ?? 0) as number;
    assert.ok(Math.abs(flaky.healthChecks - counted) <= 1, `upstream saw ${flaky.healthChecks} probes, metrics say ${counted}`);
    // Other backends are unaffected.
    assert.equal(metricValue(down, 'rustlb_backend_health', { backend: 'pool' }), 1);
    flaky.healthStatus = 200;
    await waitFor(async () => (await health()) === 1, 'backend_health 1 again', 10_000, 50);
  });
});

describe('processes', () => {
  test('CPU and memory gauges for the primary and each worker', async () => {
    const s = parseMetrics(await lb.metrics());
    for (const name of ['rustlb_process_cpu_percent', 'rustlb_process_resident_memory_bytes']) {
      const series = samplesOf(s, name);
      const keys = series.map((x) => `${x.labels.role}/${x.labels.worker}`).sort();
      assert.deepEqual(keys, ['primary/', 'worker/0', 'worker/1'], name);
      for (const x of series) assert.ok(Number.isFinite(x.value) && x.value >= 0, `${name} ${x.value}`);
    }
    for (const x of samplesOf(s, 'rustlb_process_resident_memory_bytes')) assert.ok(x.value > 10 * 1024 * 1024, `rss ${x.value}`);
  });
});

describe('configuration', () => {
  test('reloads by result, generation and the time of the last successful load', async () => {
    const t0 = await lb.metrics();
    assert.equal(metricValue(t0, 'rustlb_config_generation'), 1);
    assert.equal(metricValue(t0, 'rustlb_config_reloads_total', { result: 'success' }), 0);
    assert.equal(metricValue(t0, 'rustlb_config_reloads_total', { result: 'failure' }), 0);
    const loadedAt = metricValue(t0, 'rustlb_config_last_reload_success_timestamp_seconds') as number;
    assert.ok(Math.abs(loadedAt - Date.now() / 1000) < 600, `loaded at ${loadedAt}`);
    const reqBefore = metricValue(t0, 'rustlb_requests_total') as number;

    lb.writeConfig(config('least_connections'));
    const ok = await lb.ctl(['reload']);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    const t1 = await lb.metrics();
    assert.equal(metricValue(t1, 'rustlb_config_generation'), 2);
    assert.equal(metricValue(t1, 'rustlb_config_reloads_total', { result: 'success' }), 1);
    assert.equal(metricValue(t1, 'rustlb_config_reloads_total', { result: 'failure' }), 0);
    const reloadedAt = metricValue(t1, 'rustlb_config_last_reload_success_timestamp_seconds') as number;
    assert.ok(reloadedAt > loadedAt, `${reloadedAt} > ${loadedAt}`);
    // A reload does not reset the counters (the label children survive the rebuilt tables).
    assert.ok((metricValue(t1, 'rustlb_requests_total') as number) >= reqBefore);

    lb.writeConfig({ ...config(), bogus: true });
    const bad = await lb.ctl(['reload']);
    assert.equal(bad.code, 1);
    const t2 = await lb.metrics();
    assert.equal(metricValue(t2, 'rustlb_config_generation'), 2);
    assert.equal(metricValue(t2, 'rustlb_config_reloads_total', { result: 'success' }), 1);
    assert.equal(metricValue(t2, 'rustlb_config_reloads_total', { result: 'failure' }), 1);
    assert.equal(metricValue(t2, 'rustlb_config_last_reload_success_timestamp_seconds'), reloadedAt);
    const r = await get(web, { path: '/status/200' });
    assert.equal(r.status, 200);
  });
});
