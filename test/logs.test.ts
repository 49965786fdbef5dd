// Logs (SPEC §6): one JSON object a line, access lines with every field, request ids
// end to end, lifecycle lines once (by the primary), access_log off, pretty format,
// --log-level, and nothing lost at exit.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  backend,
  freePort,
  freePorts,
  frontend,
  get,
  type HttpUpstream,
  httpCheck,
  type LogLine,
  lbConfig,
  RUSTLB_BIN,
  RustlbProcess,
  startHttpUpstream,
  startTcpUpstream,
  type TcpUpstream,
  tcpFrontend,
  waitFor,
  webPool,
} from '@rustlb/testkit';

const cleanup: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

async function http(name: string): Promise<HttpUpstream> {
  const u = await startHttpUpstream(name);
  cleanup.push(() => u.close());
  return u;
}

async function tcpEcho(): Promise<TcpUpstream> {
  const u = await startTcpUpstream();
  cleanup.push(() => u.close());
  return u;
}

async function start(options: Parameters<typeof RustlbProcess.start>[0]): Promise<RustlbProcess> {
  const lb = await RustlbProcess.start(options);
  cleanup.push(() => lb.dispose());
  return lb;
}

/** An upstream that answers anything with bytes that are not HTTP (rustlb: 502 and a warning). */
async function garbage(): Promise<string> {
  const u = await startTcpUpstream();
  u.onConnection = (socket) => {
    socket.once('data', () => socket.end('NOT HTTP AT ALL\r\n\r\n'));
  };
  cleanup.push(() => u.close());
  return u.address;
}

function tcpRoundTrip(port: number, payload: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let n = 0;
    s.on('data', (c: Buffer) => {
      n += c.length;
      if (n === payload.length) s.end();
    });
    s.on('error', reject);
    s.on('close', () => resolve(n));
    s.on('connect', () => s.write(payload));
  });
}

const LIFECYCLE = [
  'rustlb started',
  'listening',
  'worker forked',
  'worker exited',
  'worker died unexpectedly; respawning',
  'worker respawned',
  'server is unhealthy',
  'server is healthy again',
  'configuration reloaded',
  'configuration rejected; the old one stays in force',
  'shutting down: draining workers',
  'rustlb stopped',
];

describe('JSON logs of a running instance', () => {
  let a: HttpUpstream;
  let flaky: HttpUpstream;
  let echo: TcpUpstream;
  let lb: RustlbProcess;
  let web: number;
  let deadweb: number;
  let tcp: number;
  let burst: number;
  let dead: string;
  let slow: HttpUpstream;

  const config = (extra: Record<string, unknown> = {}) =>
    lbConfig({
      frontends: [frontend('web', web, 'pool', extra), frontend('deadweb', deadweb, 'dead'), tcpFrontend('tcp', tcp, 'echo'), frontend('burst', burst, 'slow')],
      backends: [
        backend('pool', [a.address]),
        // Passes its (TCP) health check, fails every request.
        backend('dead', [dead], { health_check: { unhealthy_threshold: 100 } }),
        backend('echo', [echo.address]),
        backend('slow', [slow.address]),
        backend('flaky', [flaky.address], {
          health_check: httpCheck({ interval: '250ms', timeout: '250ms', unhealthy_threshold: 2, healthy_threshold: 1, cooldown: '0s' }),
        }),
      ],
    });

  test('start-up lines: once each, by the primary', async () => {
    a = await http('a');
    flaky = await http('flaky');
    slow = await http('slow');
    slow.handler = (_req, res) => {
      setTimeout(() => res.end('slow\n'), 300);
    };
    echo = await tcpEcho();
    dead = await garbage();
    [web, deadweb, tcp, burst] = await freePorts(4);
    lb = await start({ config: config(), args: ['--no-watch'] });
    await lb.waitForLog((l) => l.msg === 'rustlb started', 'the start line');
    const once = (msg: string) => lb.logs.filter((l) => l.msg === msg);
    assert.equal(once('rustlb started').length, 1);
    assert.deepEqual(
      once('listening').map((l) => [l.frontend, l.protocol, l.listen, l.backend]),
      [
        ['web', 'http', `127.0.0.1:${web}`, 'pool'],
        ['deadweb', 'http', `127.0.0.1:${deadweb}`, 'dead'],
        ['tcp', 'tcp', `127.0.0.1:${tcp}`, 'echo'],
        ['burst', 'http', `127.0.0.1:${burst}`, 'slow'],
      ],
    );
    assert.deepEqual(
      once('worker forked')
        .map((l) => l.worker)
        .sort(),
      [0, 1],
    );
    const started = once('rustlb started')[0] as LogLine;
    assert.equal(started.role, 'primary');
    assert.equal(started.level, 'info');
    assert.equal(typeof started.version, 'string');
    assert.equal(started.workers, 2);
    // The kernel spreads connections (SCHED_NONE), not the primary's round robin.
    assert.equal(started.scheduling, 'none');
    assert.deepEqual(started.frontends, [
      `web=http://127.0.0.1:${web}`,
      `deadweb=http://127.0.0.1:${deadweb}`,
      `tcp=tcp://127.0.0.1:${tcp}`,
      `burst=http://127.0.0.1:${burst}`,
    ]);
    assert.equal(started.metrics, `http://127.0.0.1:${lb.metricsPort}/metrics`);
    assert.equal(started.config, resolve(lb.configFile));
    assert.ok(!Number.isNaN(Date.parse(started.time as string)), `time ${started.time}`);
  });

  test('an HTTP access line has every field of SPEC §6, and the incoming X-Request-ID everywhere', async () => {
    const id = 'client-id.42:abc';
    const r = await get(web, { path: '/some/path?q=1&r=2', headers: { 'X-Request-ID': id } });
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-request-id'], id);
    assert.equal(a.requests.at(-1)?.headers['x-request-id'], id);
    const line = await lb.waitForLog((l) => l.msg === 'http request' && l.requestId === id, 'the access line');
    const { time, pid, worker, durationMs, bytesIn, bytesOut, ...rest } = line;
    assert.deepEqual(rest, {
      level: 'info',
      role: 'worker',
      requestId: id,
      frontend: 'web',
      backend: 'pool',
      server: a.address,
      clientIp: '127.0.0.1',
      method: 'GET',
      path: '/some/path?q=1&r=2',
      status: 200,
      msg: 'http request',
    });
    assert.ok(!Number.isNaN(Date.parse(time as string)));
    assert.ok(typeof pid === 'number' && lb.workerPids().includes(pid));
    assert.ok(worker === 0 || worker === 1);
    assert.ok(typeof durationMs === 'number' && durationMs >= 0 && durationMs < 10_000);
    assert.ok(typeof bytesIn === 'number' && bytesIn > 40, `bytesIn ${bytesIn}`);
    assert.ok(typeof bytesOut === 'number' && bytesOut > r.body.length, `bytesOut ${bytesOut}`);
  });

  test('without an incoming id (or with an unsafe one) rustlb makes one: the same in upstream request, response and access line', async () => {
    for (const headers of [{}, { 'X-Request-ID': 'has space' }, { 'X-Request-ID': 'x'.repeat(201) }] as Record<string, string>[]) {
      const r = await get(web, { path: '/gen', headers });
      assert.equal(r.status, 200);
      const id = r.headers['x-request-id'];
      assert.ok(typeof id === 'string' && id.length > 0 && id !== headers['X-Request-ID']);
      assert.equal(a.requests.at(-1)?.headers['x-request-id'], id);
      await lb.waitForLog((l) => l.msg === 'http request' && l.requestId === id && l.path === '/gen', `the access line of ${id}`);
    }
  });

  test('an error line for a request carries its request id, as does its access line', async () => {
    const id = 'err-req-1';
    const r = await get(deadweb, { path: '/x', headers: { 'X-Request-ID': id } });
    assert.equal(r.status, 502);
    assert.equal(r.headers['x-request-id'], id);
    const error = await lb.waitForLog((l) => l.level === 'warn' && l.requestId === id, 'the error line');
    assert.equal(error.msg, 'upstream request failed');
    assert.equal(error.server, `dead/${dead}`);
    const access = await lb.waitForLog((l) => l.msg === 'http request' && l.requestId === id, 'the access line');
    assert.equal(access.status, 502);
    assert.equal(access.backend, 'dead');
    assert.equal(access.server, dead);
    assert.equal(typeof access.error, 'string');
  });

  test('a TCP session line per connection', async () => {
    const before = lb.logs.filter((l) => l.msg === 'tcp session').length;
    const payload = Buffer.alloc(1234, 7);
    assert.equal(await tcpRoundTrip(tcp, payload), payload.length);
    const line = await lb.waitForLog((l) => l.msg === 'tcp session' && l.bytesIn === payload.length, 'the TCP session line');
    assert.equal(lb.logs.filter((l) => l.msg === 'tcp session').length, before + 1);
    const { time, pid, worker, durationMs, ...rest } = line;
    assert.deepEqual(rest, {
      level: 'info',
      role: 'worker',
      frontend: 'tcp',
      backend: 'echo',
      server: echo.address,
      clientIp: '127.0.0.1',
      bytesIn: 1234,
      bytesOut: 1234,
      msg: 'tcp session',
    });
    assert.ok(typeof durationMs === 'number' && durationMs >= 0);
    assert.ok(!Number.isNaN(Date.parse(time as string)) && typeof pid === 'number' && typeof worker === 'number');
  });

  test('health transitions, worker death and respawn, reloads: each logged once, by the primary', async () => {
    const count = (msg: string) => lb.logs.filter((l) => l.msg === msg).length;
    flaky.healthStatus = 500;
    await lb.waitForLog((l) => l.msg === 'server is unhealthy' && l.backend === 'flaky', 'the unhealthy transition');
    flaky.healthStatus = 200;
    await lb.waitForLog((l) => l.msg === 'server is healthy again' && l.backend === 'flaky', 'the healthy transition');

    const victim = lb.workerPids()[0] as number;
    process.kill(victim, 'SIGKILL');
    await lb.waitForLog((l) => l.msg === 'worker respawned' && l.replaces === victim, 'the respawn', 20_000);
    await lb.waitReady(20_000);

    lb.writeConfig(config({ algorithm: 'least_connections' }));
    assert.equal((await lb.ctl(['reload'])).code, 0);
    lb.writeConfig({ ...config(), frontends: [frontend('web', web, 'nope')] });
    assert.equal((await lb.ctl(['reload'])).code, 1);
    const rejected = await lb.waitForLog((l) => l.msg === 'configuration rejected; the old one stays in force', 'the rejection');
    assert.equal(rejected.level, 'error');
    assert.ok(
      Array.isArray(rejected.errors) && (rejected.errors as string[]).some((e) => /frontends\[0\]\.backend.*nope/.test(e)),
      JSON.stringify(rejected.errors),
    );
    lb.writeConfig(config({ algorithm: 'least_connections' }));

    assert.equal(count('server is unhealthy'), 1);
    assert.equal(count('server is healthy again'), 1);
    assert.equal(count('worker died unexpectedly; respawning'), 1);
    assert.equal(count('worker respawned'), 1);
    assert.equal(count('worker forked'), 3);
    assert.equal(count('configuration reloaded'), 1);
    assert.equal(count('configuration rejected; the old one stays in force'), 1);
    assert.equal(count('rustlb started'), 1);
    for (const l of lb.logs) if (LIFECYCLE.includes(l.msg as string)) assert.equal(l.role, 'primary', JSON.stringify(l));
  });

  test('SIGTERM: in-flight requests finish and are all logged; drain and exit are logged once; nothing is lost at exit', async () => {
    // 24 requests in flight (the upstream takes 300 ms) when SIGTERM arrives.
    const inflight = Array.from({ length: 24 }, (_, i) => get(burst, { path: `/b${i}`, timeoutMs: 20_000 }));
    await waitFor(() => slow.requests.length >= 24, 'all 24 requests at the upstream', 10_000);
    lb.child.kill('SIGTERM');
    const results = await Promise.all(inflight);
    assert.deepEqual(
      results.map((r) => r.status),
      results.map(() => 200),
    );
    const exit = await lb.exited;
    assert.equal(exit.code, 0);
    const access = lb.logs.filter((l) => l.msg === 'http request' && l.frontend === 'burst');
    assert.equal(access.length, 24, 'one access line per request, none lost at exit');
    assert.equal(lb.logs.filter((l) => l.msg === 'shutting down: draining workers').length, 1);
    assert.equal(lb.logs.filter((l) => l.msg === 'worker exited').length, 2);
    assert.equal(lb.logs.filter((l) => l.msg === 'rustlb stopped').length, 1);
    assert.equal(lb.logs.at(-1)?.msg, 'rustlb stopped', JSON.stringify(lb.logs.slice(-5)));
    // Every stdout line of the whole run was one JSON object, and nothing went to stderr.
    assert.deepEqual(lb.strayLines, []);
    assert.equal(lb.stderr, '');
    for (const l of lb.logs) {
      assert.equal(typeof l, 'object');
      assert.ok(typeof l.msg === 'string' && typeof l.level === 'string' && typeof l.time === 'string', JSON.stringify(l));
    }
  });
});

describe('settings', () => {
  test('global.access_log: false: no access lines, lifecycle lines still there', async () => {
    const up = await http('q');
    const echo = await tcpEcho();
    const [port, tcp] = await freePorts(2);
    const lb = await start({
      config: lbConfig({
        global: { access_log: false },
        frontends: [frontend('web', port, 'pool'), tcpFrontend('tcp', tcp, 'echo')],
        backends: [backend('pool', [up.address]), backend('echo', [echo.address])],
      }),
    });
    for (let i = 0; i < 5; i++) assert.equal((await get(port)).status, 200);
    assert.equal(await tcpRoundTrip(tcp, Buffer.from('hello')), 5);
    assert.equal(up.count, 5);
    await lb.stop();
    assert.equal(lb.logs.filter((l) => l.msg === 'http request' || l.msg === 'tcp session').length, 0);
    assert.equal(lb.logs.filter((l) => l.msg === 'rustlb started').length, 1);
    assert.equal(lb.logs.at(-1)?.msg, 'rustlb stopped');
    assert.deepEqual(lb.strayLines, []);
  });

  test('log_format: pretty gives readable lines, not JSON', async () => {
    const up = await http('p');
    const port = await freePort();
    const lb = await start({
      config: webPool(port, [up.address], { global: { log_format: 'pretty' } }),
    });
    assert.equal((await get(port, { path: '/pretty-path', headers: { 'X-Request-ID': 'pretty-1' } })).status, 200);
    await waitFor(() => lb.strayLines.some((l) => /pretty-1/.test(l)), 'the access line');
    await lb.stop();
    assert.equal(lb.logs.filter((l) => typeof l === 'object' && l !== null).length, 0, 'no JSON object lines');
    assert.ok(
      lb.strayLines.some((l) => /INFO.*rustlb started/.test(l)),
      lb.strayLines.slice(0, 5).join('\n'),
    );
    assert.ok(lb.strayLines.some((l) => /INFO.*http request/.test(l)));
    assert.ok(lb.strayLines.some((l) => /pretty-path/.test(l)));
    assert.ok(lb.strayLines.some((l) => /rustlb stopped/.test(l)));
    // Colours only on a terminal.
    assert.ok(!lb.strayLines.some((l) => l.includes('\u001b[')));
  });

  test('--log-level overrides log_level, in the primary and in every worker', async () => {
    const up = await http('w');
    const [port, deadPort] = await freePorts(2);
    const dead = await garbage();
    const lb = await start({
      config: lbConfig({
        global: { log_level: 'info' },
        frontends: [frontend('web', port, 'pool'), frontend('deadweb', deadPort, 'dead')],
        backends: [backend('pool', [up.address]), backend('dead', [dead], { health_check: { unhealthy_threshold: 100 } })],
      }),
      args: ['--log-level', 'warn'],
    });
    for (let i = 0; i < 6; i++) assert.equal((await get(port)).status, 200);
    // Warnings still come through, from the workers too.
    for (let i = 0; i < 4; i++) assert.equal((await get(deadPort)).status, 502);
    await lb.waitForLog((l) => l.msg === 'upstream request failed' && l.role === 'worker', 'a worker warning');
    await lb.stop();
    const info = lb.logs.filter((l) => l.level === 'info' || l.level === 'debug' || l.level === 'trace');
    assert.deepEqual(
      info.map((l) => l.msg),
      [],
    );
    assert.deepEqual(lb.strayLines, []);
  });
});

describe('a slow stdout', () => {
  test('a stdout nobody reads does not stall the workers; every access line arrives once it is read again', async () => {
    const up = await http('s');
    const [port, metricsPort] = await freePorts(2);
    const dir = mkdtempSync(join(tmpdir(), 'rustlb-stdout-'));
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'rustlb.yaml');
    writeFileSync(
      file,
      JSON.stringify(
        webPool(port, [up.address], {
          global: { log_level: 'info', metrics: { address: `127.0.0.1:${metricsPort}` }, admin: { socket: join(dir, 'ctl.sock') } },
        }),
      ),
    );
    // Not the testkit's RustlbProcess: it reads stdout all the time, and this test must not.
    const child = spawn(process.execPath, [RUSTLB_BIN, '--config', file, '--workers', '2', '--no-watch'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    cleanup.push(async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    });
    const stdout = child.stdout;
    stdout.pause();
    await waitFor(async () => (await get(metricsPort, { path: '/readyz' }).catch(() => null))?.status === 200, 'rustlb to be ready', 30_000, 50);
    // About 300 bytes an access line: 3,000 requests write far more than a pipe holds (64 KiB).
    const agents = Array.from({ length: 8 }, () => new Agent({ keepAlive: true, maxSockets: 1 }));
    const started = performance.now();
    await Promise.all(
      agents.map(async (agent) => {
        for (let i = 0; i < 375; i++) assert.equal((await get(port, { agent, timeoutMs: 5000 })).status, 200);
      }),
    );
    const tookMs = performance.now() - started;
    for (const a of agents) a.destroy();
    // Paused, this end took in about its buffer (16 KiB on Node 20, 64 KiB from 22; one read
    // may go past it): the rest waits in the pipe and in the workers.
    const heldHere = stdout.readableLength;
    assert.ok(heldHere <= 2 * stdout.readableHighWaterMark, `${heldHere} bytes read while paused`);
    // Read now: every access line arrives, none lost.
    let text = '';
    stdout.setEncoding('utf8');
    stdout.on('data', (chunk: string) => {
      text += chunk;
    });
    stdout.resume();
    const accessLines = () => text.split('\n').filter((l) => l.includes('"msg":"http request"')).length;
    await waitFor(() => accessLines() >= 3000, 'all 3000 access lines', 30_000, 50);
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.equal(accessLines(), 3000);
    // Far more than the pipe (64 KiB) and this end's buffer held while nobody read.
    assert.ok(text.length > heldHere + 4 * 65536, `${text.length} bytes of logs`);
    // Generous for 3,000 requests on two cores: a worker blocked on a full pipe would not finish at all.
    assert.ok(tookMs < 25_000, `3000 requests took ${Math.round(tookMs)} ms`);
  });
});
