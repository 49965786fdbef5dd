import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { request } from 'node:http';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { IpHash } from '@rustlb/balancer';
import {
  backend,
  freePorts,
  frontend,
  type HttpUpstream,
  lbConfig,
  RustlbProcess,
  startHttpUpstream,
  startTcpUpstream,
  type TcpUpstream,
  tcpFrontend,
  waitFor,
} from '@rustlb/testkit';

// The balancing algorithms against the real bin/rustlb with two workers and real
// upstreams. Which worker takes a connection is up to the kernel (the workers share the
// listening socket), so tests that need one worker stop the other with SIGSTOP: a
// stopped worker does not accept, and the running one takes every new connection.

let a: HttpUpstream;
let b: HttpUpstream;
let c: HttpUpstream;
let echo: TcpUpstream;
/** A port nothing listens on: connections to it are refused. */
let deadPort: number;
let lb: RustlbProcess;
const port: Record<string, number> = {};
const FRONTENDS = ['rr', 'wt', 'lc', 'ip', 'f_rr', 'f_wt', 'f_lc', 'f_ip', 'f_tcp'] as const;

/** Never taken out by health: these backends keep a refusing server "available", so only `avoid` saves the request. */
const KEEP_UP = { interval: '1h', unhealthy_threshold: 1_000_000 };

before(async () => {
  [a, b, c] = await Promise.all([startHttpUpstream('a'), startHttpUpstream('b'), startHttpUpstream('c')]);
  echo = await startTcpUpstream();
  const ports = await freePorts(FRONTENDS.length + 1);
  deadPort = ports.pop() as number;
  FRONTENDS.forEach((name, i) => {
    port[name] = ports[i] as number;
  });
  const dead = `127.0.0.1:${deadPort}`;
  const http = (name: string, backend: string, algorithm: string) => frontend(name, port[name] as number, backend, { algorithm });
  lb = await RustlbProcess.start({
    workers: 2,
    // The tests rely on the kernel handing connections to whichever worker accepts.
    env: { NODE_CLUSTER_SCHED_POLICY: 'none' },
    config: lbConfig({
      frontends: [
        http('rr', 'rr', 'round_robin'),
        http('wt', 'wt', 'weighted'),
        http('lc', 'lc', 'least_connections'),
        http('ip', 'ip', 'ip_hash'),
        http('f_rr', 'flaky', 'round_robin'),
        http('f_wt', 'flaky', 'weighted'),
        http('f_lc', 'flaky', 'least_connections'),
        http('f_ip', 'flaky', 'ip_hash'),
        tcpFrontend('f_tcp', port.f_tcp as number, 'flaky_tcp', { algorithm: 'ip_hash' }),
      ],
      backends: [
        backend('rr', [a.address, b.address, c.address]),
        backend('wt', [
          { address: a.address, weight: 5 },
          { address: b.address, weight: 3 },
          { address: c.address, weight: 2 },
        ]),
        backend('lc', [a.address, b.address]),
        backend('ip', [a.address, b.address, c.address]),
        backend('flaky', [a.address, dead, b.address], { health_check: KEEP_UP }),
        backend('flaky_tcp', [dead, echo.address], { health_check: KEEP_UP }),
      ],
    }),
  });
});

after(async () => {
  // A worker left stopped would never see its primary go away.
  for (const slot of [0, 1]) continueWorker(slot);
  await lb?.dispose();
  await Promise.all([a?.close(), b?.close(), c?.close(), echo?.close()]);
});

// ---- helpers ------------------------------------------------------------------------

interface Reply {
  readonly status: number;
  readonly text: string;
}

/** One request on a new connection, from `localAddress` (any 127.x.y.z: Linux routes 127/8 to lo). */
function send(frontend: string, path: string, localAddress = '127.0.0.1'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: port[frontend], path, agent: false, localAddress });
    req.setTimeout(30_000, () => req.destroy(new Error(`${frontend} ${path}: no answer in 30 s`)));
    req.once('error', reject);
    req.once('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.once('error', reject);
      res.once('end', () => resolve({ status: res.statusCode ?? 0, text: text.trim() }));
    });
    req.end();
  });
}

/** The upstream that answered (each answers its name), failing on anything but 200. */
async function server(frontend: string, path: string, localAddress?: string): Promise<string> {
  const r = await send(frontend, path, localAddress);
  assert.equal(r.status, 200, `${frontend} ${path} from ${localAddress ?? '127.0.0.1'}: ${r.status} ${r.text}`);
  return r.text;
}

function tally(names: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of names) out[n] = (out[n] ?? 0) + 1;
  return out;
}

/** pid of the worker in `slot` now (the latest fork of that slot). */
function workerPid(slot: number): number {
  let pid: number | undefined;
  for (const l of lb.logs) if (l.msg === 'worker forked' && l.worker === slot) pid = l.workerPid as number;
  assert.ok(pid !== undefined && lb.workerPids().includes(pid), `no live worker in slot ${slot}`);
  return pid;
}

function continueWorker(slot: number): void {
  try {
    process.kill(workerPid(slot), 'SIGCONT');
  } catch {
    // Already gone.
  }
}

/** Runs `fn` while only the worker in `slot` accepts connections (the other is stopped). */
async function through<T>(slot: number, fn: () => Promise<T>): Promise<T> {
  const other = 1 - slot;
  process.kill(workerPid(other), 'SIGSTOP');
  try {
    return await fn();
  } finally {
    process.kill(workerPid(other), 'SIGCONT');
  }
}

async function ctl(...args: string[]): Promise<string> {
  const r = await lb.ctl(args);
  assert.equal(r.code, 0, `rustlb-ctl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

interface Status {
  workers: { slot: number; activeConnections: number | null }[];
  backends: { name: string; servers: { server: string; activeRequests: number }[] }[];
}

/** In-flight requests the primary knows of, per server of `backend`. */
async function inFlight(backend: string): Promise<{ counts: Record<string, number>; allWorkersAnswered: boolean }> {
  const s = JSON.parse(await ctl('status', '--json')) as Status;
  const counts: Record<string, number> = {};
  for (const v of s.backends.find((x) => x.name === backend)?.servers ?? []) counts[v.server] = v.activeRequests;
  return { counts, allWorkersAnswered: s.workers.length === 2 && s.workers.every((w) => w.activeConnections !== null) };
}

/** The server ip_hash gives `clientIp` in `backend` with all servers up, by the library the workers use. */
function firstChoice(backend: string, addresses: readonly string[], clientIp: string): string | undefined {
  const ring = new IpHash(addresses.map((address) => ({ key: `${backend}/${address}`, weight: 1, available: true, localActive: 0, remoteActive: 0 })));
  return ring.pick(clientIp, null)?.key.slice(backend.length + 1);
}

function reply(res: ServerResponse, name: string): void {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': name.length + 1 });
  res.end(`${name}\n`);
}

// ---- round_robin --------------------------------------------------------------------

test('round_robin: each worker starts its rotation at a different server', async () => {
  // The very first requests of the rr backend: worker 0 starts at server 0, worker 1 at server 1.
  assert.equal(await through(0, () => server('rr', '/first')), 'a');
  assert.equal(await through(1, () => server('rr', '/first')), 'b');
  assert.equal(await through(1, () => server('rr', '/second')), 'c');
  assert.equal(await through(0, () => server('rr', '/second')), 'b');
});

test('round_robin: new connections spread over both workers hit the servers evenly', async () => {
  const names: string[] = [];
  for (let i = 0; i < 99; i++) names.push(await server('rr', `/even-${i}`));
  const t = tally(names);
  // Each worker rotates on its own: each is at most one pick off a third, so two are at most two.
  for (const n of ['a', 'b', 'c']) assert.ok(Math.abs((t[n] ?? 0) - 33) <= 2, `round_robin split ${JSON.stringify(t)}`);
});

// ---- weighted ---------------------------------------------------------------------

test('weighted 5:3:2: 100 requests over both workers split 50/30/20', async () => {
  const names: string[] = [];
  for (let i = 0; i < 100; i++) names.push(await server('wt', `/w-${i}`));
  const t = tally(names);
  // Any run of one worker's picks is within one of 5:3:2 (smooth weighted round robin);
  // two workers interleaving are within two.
  assert.ok(Math.abs((t.a ?? 0) - 50) <= 2 && Math.abs((t.b ?? 0) - 30) <= 2 && Math.abs((t.c ?? 0) - 20) <= 2, `weighted split ${JSON.stringify(t)}`);
});

test('weighted 5:3:2 through one worker: interleaved, exact in every 10', async () => {
  const names = await through(0, async () => {
    const out: string[] = [];
    for (let i = 0; i < 30; i++) out.push(await server('wt', `/w1-${i}`));
    return out;
  });
  for (let i = 0; i + 10 <= names.length; i++) assert.deepEqual(tally(names.slice(i, i + 10)), { a: 5, b: 3, c: 2 }, names.join(' '));
  assert.doesNotMatch(names.join(''), /aaa|bb|cc/);
});

// ---- least_connections ------------------------------------------------------------

test('least_connections counts across the cluster: a server holding 20 slow requests of one worker gets nothing new from the other', async () => {
  const held: Record<'a' | 'b', ServerResponse[]> = { a: [], b: [] };
  const hold = (name: 'a' | 'b') => (req: { url?: string }, res: ServerResponse) => {
    if (req.url?.startsWith('/hold')) held[name].push(res);
    else reply(res, name);
  };
  a.handler = hold('a');
  b.handler = hold('b');
  const keyA = `lc/${a.address}`;
  const keyB = `lc/${b.address}`;
  try {
    // Worker 0 alone takes 40 slow requests: least_connections alternates, 20 on each server.
    const slow = await through(0, async () => {
      const requests = Array.from({ length: 40 }, (_, i) => send('lc', `/hold-${i}`));
      await waitFor(() => held.a.length + held.b.length === 40, '40 requests held by the upstreams', 20_000);
      return requests;
    });
    assert.equal(held.a.length, 20);
    assert.equal(held.b.length, 20);
    // B finishes its 20: B is idle, A holds 20, all of them worker 0's.
    for (const res of held.b.splice(0)) reply(res, 'b');
    const first = await waitFor(
      async () => {
        const { counts } = await inFlight('lc');
        return counts[keyA] === 20 && counts[keyB] === 0 ? Date.now() : null;
      },
      'the primary to count 20 in flight on A and 0 on B',
      20_000,
      100,
    );
    // The primary pushes the merged counts at most 50 ms after it learns them; a status
    // collected later went to every worker behind that push on the same ordered channel.
    await waitFor(
      async () => {
        if (Date.now() - first < 250) return false;
        const { counts, allWorkersAnswered } = await inFlight('lc');
        return allWorkersAnswered && counts[keyA] === 20 && counts[keyB] === 0;
      },
      'every worker to have the cluster-wide counts',
      20_000,
      100,
    );
    // Worker 1 has nothing in flight itself: only the cluster-wide view keeps it off A.
    const names = await through(1, async () => {
      const out: string[] = [];
      for (let i = 0; i < 20; i++) out.push(await server('lc', `/lc-new-${i}`));
      return out;
    });
    assert.deepEqual(tally(names), { b: 20 }, `new requests from worker 1 went to ${names.join(' ')}`);
    const served = await waitFor(() => {
      const lines = lb.logs.filter((l) => l.msg === 'http request' && String(l.path).startsWith('/lc-new-'));
      return lines.length === 20 ? lines : null;
    }, 'access log lines of the 20 new requests');
    assert.ok(
      served.every((l) => l.worker === 1),
      'the new requests were served by worker 1',
    );
    for (const res of held.a.splice(0)) reply(res, 'a');
    const done = await Promise.all(slow);
    assert.ok(
      done.every((r) => r.status === 200),
      'every slow request completed',
    );
    assert.deepEqual(tally(done.map((r) => r.text)), { a: 20, b: 20 });
  } finally {
    for (const res of [...held.a, ...held.b]) res.destroy();
    a.handler = null;
    b.handler = null;
  }
});

// ---- ip_hash ------------------------------------------------------------------------

const CLIENTS = Array.from({ length: 40 }, (_, i) => `127.0.0.${i + 2}`);

async function mapping(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const ip of CLIENTS) out.set(ip, await server('ip', '/ip', ip));
  return out;
}

test('ip_hash: a client IP lands on the same server from either worker; a disabled server’s clients move and come back', async () => {
  const home = await through(0, mapping);
  assert.deepEqual(await through(1, mapping), home, 'worker 1 maps clients like worker 0');
  const perServer = tally([...home.values()]);
  assert.ok(Object.keys(perServer).length >= 2, `40 clients all on one server: ${JSON.stringify(perServer)}`);
  // The server with the most clients goes into maintenance.
  const [gone] = Object.entries(perServer).sort((x, y) => y[1] - x[1])[0] as [string, number];
  const upstream = { a, b, c }[gone as 'a' | 'b' | 'c'];
  const movers = CLIENTS.filter((ip) => home.get(ip) === gone);
  await ctl('disable', `ip/${upstream.address}`);
  const away: Map<string, string>[] = [];
  for (const slot of [0, 1]) {
    away.push(
      await through(slot, async () => {
        await waitFor(
          async () => (await Promise.all(movers.map((ip) => server('ip', '/ip', ip)))).every((n) => n !== gone),
          `worker ${slot} to stop using ${gone}`,
        );
        const now = await mapping();
        for (const ip of CLIENTS) {
          if (home.get(ip) === gone) assert.notEqual(now.get(ip), gone);
          else assert.equal(now.get(ip), home.get(ip), `${ip}, a client of a server still up, moved`);
        }
        return now;
      }),
    );
  }
  // Their next choice is the same in both workers.
  assert.deepEqual(away[0], away[1]);
  await ctl('enable', `ip/${upstream.address}`);
  for (const slot of [0, 1]) {
    await through(slot, async () => {
      await waitFor(
        async () => (await Promise.all(movers.map((ip) => server('ip', '/ip', ip)))).every((n) => n === gone),
        `worker ${slot} to send ${gone}'s clients back`,
      );
      assert.deepEqual(await mapping(), home);
    });
  }
});

// ---- everything skips unavailable servers, retries avoid the failed one ------------

test('every algorithm retries a refused connection on another server: no client error', async () => {
  const names: Record<string, string[]> = {};
  for (const frontend of ['f_rr', 'f_wt', 'f_lc']) {
    names[frontend] = [];
    // round_robin and weighted reach the refusing server every third pick; least_connections
    // whenever it ties (it never holds a request): the retry has to skip it.
    for (let i = 0; i < 30; i++) names[frontend]?.push(await server(frontend, `/retry-${i}`));
  }
  // ip_hash would send some clients to the refusing server every time: their retry must avoid it.
  const clients = Array.from({ length: 60 }, (_, i) => `127.0.1.${i + 1}`);
  assert.ok(
    clients.some((ip) => firstChoice('flaky', [a.address, `127.0.0.1:${deadPort}`, b.address], ip) === `127.0.0.1:${deadPort}`),
    'some clients hash to the refusing server',
  );
  names.f_ip = [];
  for (const ip of clients) names.f_ip.push(await server('f_ip', '/retry', ip));
  for (const [frontend, list] of Object.entries(names)) {
    assert.ok(
      list.every((n) => n === 'a' || n === 'b'),
      `${frontend}: ${list.join(' ')}`,
    );
  }
});

function tcpEcho(text: string, localAddress: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port: port.f_tcp as number, host: '127.0.0.1', localAddress });
    let got = '';
    socket.setEncoding('utf8');
    socket.setTimeout(10_000, () => socket.destroy(new Error('tcp echo timed out')));
    socket.on('connect', () => socket.end(text));
    socket.on('data', (d: string) => {
      got += d;
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(got));
  });
}

test('TCP: a refused connect is retried on another server', async () => {
  // ip_hash sends these clients to the refusing server first, every time.
  const dead = `127.0.0.1:${deadPort}`;
  const clients = Array.from({ length: 60 }, (_, i) => `127.0.2.${i + 1}`).filter((ip) => firstChoice('flaky_tcp', [dead, echo.address], ip) === dead);
  assert.ok(clients.length > 0, 'some clients hash to the refusing server');
  for (const ip of clients.slice(0, 10)) assert.equal(await tcpEcho(`ping from ${ip}`, ip), `ping from ${ip}`);
});

test('round_robin, weighted and least_connections skip a drained server in every worker', async () => {
  const frontends = ['rr', 'wt', 'lc'];
  for (const f of frontends) await ctl('drain', `${f}/${a.address}`);
  try {
    for (const slot of [0, 1]) {
      await through(slot, async () => {
        for (const f of frontends) {
          await waitFor(
            async () => (await Promise.all([1, 2, 3].map(() => server(f, '/drained')))).every((n) => n !== 'a'),
            `${f} in worker ${slot} to skip a`,
          );
          const names: string[] = [];
          for (let i = 0; i < 12; i++) names.push(await server(f, '/drained'));
          assert.ok(
            names.every((n) => n !== 'a'),
            `${f} in worker ${slot}: ${names.join(' ')}`,
          );
        }
      });
    }
  } finally {
    for (const f of frontends) await ctl('enable', `${f}/${a.address}`);
  }
});
