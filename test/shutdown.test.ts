import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import {
  backend,
  control,
  freePort,
  frontend,
  get,
  type HttpUpstream,
  keepAliveAgent,
  lbConfig,
  RawConnection,
  RustlbProcess,
  startHttpUpstream,
  startTcpUpstream,
  type TcpUpstream,
  tcpFrontend,
  waitFor,
} from '@rustlb/testkit';
import { WebSocket, WebSocketServer } from 'ws';
import { alive } from './support/worker-fixture.js';

// SIGTERM / SIGINT as Kubernetes and operators use them: readiness fails at once, the
// listeners keep accepting for shutdown_delay (responses say Connection: close), then
// stop; in-flight work finishes up to shutdown_timeout; exit 0. The primary enforces
// the deadline on each worker; a second SIGINT exits at once.

let upstream: HttpUpstream;
let echo: TcpUpstream;
/** Requests to /hang that the upstream never answers (released in after()). */
const hanging: ServerResponse[] = [];

before(async () => {
  upstream = await startHttpUpstream('a');
  upstream.handler = (req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/slow') {
      setTimeout(() => {
        res.writeHead(200, { 'content-length': 5 });
        res.end('slow\n');
      }, 2000);
    } else if (req.url === '/hang') {
      hanging.push(res);
    } else {
      res.writeHead(200, { 'content-length': 3 });
      res.end('ok\n');
    }
  };
  echo = await startTcpUpstream();
});

after(async () => {
  for (const res of hanging) res.destroy();
  await upstream?.close();
  await echo?.close();
});

function config(port: number, global: Record<string, unknown>, extra: Record<string, unknown>[] = []): Record<string, unknown> {
  return lbConfig({
    global: { access_log: false, ...global },
    frontends: [frontend('web', port, 'pool'), ...extra],
    backends: [backend('pool', [upstream.address]), backend('echo', [echo.address])],
  });
}

/** Resolves 'refused' when the port no longer accepts, 'accepted' when it does. */
function probeConnect(port: number): Promise<'accepted' | 'refused'> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve('accepted');
    });
    s.once('error', () => resolve('refused'));
  });
}

test('SIGTERM: /readyz 503 at once, accepting with Connection: close for shutdown_delay, a 2 s request completes, then refused, exit 0', async () => {
  const port = await freePort();
  const delayMs = 1500;
  const lb = await RustlbProcess.start({ config: config(port, { shutdown_delay: '1500ms', shutdown_timeout: '30s' }) });
  try {
    const workers = lb.workerPids();
    assert.equal(workers.length, 2);
    // An idle keep-alive connection: it must be closed, not left to its idle timeout.
    const agent = keepAliveAgent();
    const first = await get(port, { agent });
    assert.equal(first.status, 200);
    const idleSocket = (agent.freeSockets[Object.keys(agent.freeSockets)[0] as string] as Socket[])[0] as Socket;
    let idleClosedAt = 0;
    idleSocket.once('close', () => {
      idleClosedAt = Date.now();
    });
    const seen = upstream.requests.length;
    const slow = get(port, { path: '/slow', timeoutMs: 20_000 });
    await waitFor(() => upstream.requests.slice(seen).some((r) => r.url === '/slow'), 'the slow request to reach the upstream');

    const t0 = Date.now();
    lb.child.kill('SIGTERM');
    await waitFor(async () => (await lb.readyz()).status === 503, '/readyz to fail', 1000, 10);
    assert.ok(Date.now() - t0 < 1000, 'readiness failed at once');
    assert.equal((await get(lb.metricsPort, { path: '/livez' })).status, 200, 'liveness is unaffected by a shutdown');
    // A reload signal in the middle of a shutdown is refused, not a crash.
    lb.child.kill('SIGHUP');
    // The control socket still answers, and tells.
    const s = await control<{ draining: boolean; ready: boolean; workers: { state: string }[] }>(lb.socket, 'status');
    assert.equal(s.draining, true);
    assert.equal(s.ready, false);
    assert.deepEqual(
      s.workers.map((w) => w.state),
      ['draining', 'draining'],
    );
    await assert.rejects(control(lb.socket, 'restart-workers'), /cannot restart workers while draining/);

    // A pipelined pair during the delay: the first answer closes the connection, so the
    // second is never sent upstream (its answer could not be delivered; the client retries
    // it). Node's server does not hand it over; this guards that against the turn-taking.
    const pipelined = await RawConnection.open(port);
    pipelined.write('GET /pipe-a HTTP/1.1\r\nHost: s\r\n\r\nGET /pipe-b HTTP/1.1\r\nHost: s\r\n\r\n');
    const pipeA = await pipelined.read();
    assert.equal(pipeA.status, 200);
    assert.equal(pipeA.headers.connection, 'close');
    assert.equal(await pipelined.waitClosed(3000), true);
    // A request on a new connection reaches the upstream after /pipe-b would have.
    assert.equal((await get(port, { path: '/pipe-c' })).status, 200);
    assert.deepEqual(
      upstream.requests.filter((r) => r.url.startsWith('/pipe-')).map((r) => r.url),
      ['/pipe-a', '/pipe-c'],
    );

    // During the delay: new connections are served, and told to close.
    const during: { at: number; connection: string | undefined }[] = [];
    let refusedAt = 0;
    let firstFailure = 0;
    while (refusedAt === 0 && Date.now() - t0 < delayMs + 5000) {
      const started = Date.now();
      try {
        const r = await get(port, { timeoutMs: 2000 });
        assert.equal(r.status, 200);
        during.push({ at: Date.now(), connection: r.headers.connection });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // A connection caught in the listen queue as the listener closes is reset rather than refused.
        assert.ok(code === 'ECONNREFUSED' || code === 'ECONNRESET', String(err));
        firstFailure ||= started;
        if (code === 'ECONNREFUSED') refusedAt = Date.now();
      }
    }
    assert.ok(refusedAt > 0, 'new connections were refused after the delay');
    assert.ok(firstFailure - t0 >= delayMs, `a connection failed ${firstFailure - t0} ms after SIGTERM, before the ${delayMs} ms delay was over`);
    assert.ok(during.length >= 3, `${during.length} requests served during the delay`);
    assert.ok(
      during.every((d) => d.connection === 'close'),
      JSON.stringify(during),
    );
    assert.ok(idleClosedAt > 0 && idleClosedAt < refusedAt, 'the idle keep-alive connection was closed during the delay');
    agent.destroy();

    const done = await slow;
    assert.equal(done.status, 200);
    assert.equal(done.text, 'slow\n');
    assert.equal(done.headers.connection, 'close');
    const exit = await lb.exited;
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.ok(Date.now() - t0 < 10_000, `exit took ${Date.now() - t0} ms`);
    for (const pid of workers) assert.equal(alive(pid), false, `worker ${pid} is gone`);
    assert.ok(lb.logs.some((l) => l.msg === 'rustlb stopped'));
    assert.ok(!lb.logs.some((l) => l.msg === 'worker did not finish draining in time: killing it'));
    assert.ok(lb.logs.some((l) => l.msg === 'reload ignored: shutting down'));
  } finally {
    await lb.dispose();
  }
});

/**
 * Starts rustlb with `shutdown_timeout`, holds a request at the upstream, sends SIGTERM;
 * returns how the primary exited, how long it took, and how the held request ended.
 */
async function termWithARequestHeld(shutdownTimeout: string): Promise<{ lb: RustlbProcess; exit: unknown; took: number; hung: string }> {
  const port = await freePort();
  const lb = await RustlbProcess.start({ config: config(port, { shutdown_delay: '0s', shutdown_timeout: shutdownTimeout }) });
  try {
    const seen = upstream.requests.length;
    const hung = get(port, { path: '/hang', timeoutMs: 20_000 }).then(
      (r) => `status ${r.status}`,
      (err: NodeJS.ErrnoException) => err.code ?? err.message,
    );
    await waitFor(() => upstream.requests.slice(seen).some((r) => r.url === '/hang'), 'the request to reach the upstream');
    const t0 = Date.now();
    lb.child.kill('SIGTERM');
    const exit = await lb.exited;
    return { lb, exit, took: Date.now() - t0, hung: await hung };
  } finally {
    await lb.dispose();
  }
}

test('shutdown_timeout: the primary kills a worker whose request outlives it, and still exits 0', async () => {
  const { lb, exit, took, hung } = await termWithARequestHeld('1s');
  assert.deepEqual(exit, { code: 0, signal: null });
  assert.ok(took >= 1000 && took < 6000, `exit after ${took} ms with a 1 s shutdown_timeout`);
  assert.match(hung, /ECONNRESET|socket hang up/);
  assert.ok(lb.logs.some((l) => l.msg === 'worker did not finish draining in time: killing it'));
});

test('shutdown_timeout: 0s closes what is in flight at once (the meaning of 0), and exits 0', async () => {
  const { exit, took, hung } = await termWithARequestHeld('0s');
  assert.deepEqual(exit, { code: 0, signal: null });
  assert.ok(took < 900, `exit after ${took} ms with a 0s shutdown_timeout`);
  assert.match(hung, /ECONNRESET|socket hang up/);
});

test('TCP sessions and WebSockets finish after the listeners stop; exit follows their end', async () => {
  const port = await freePort();
  const tcpPort = await freePort();
  const wsPort = await freePort();
  const wss = new WebSocketServer({ host: '127.0.0.1', port: wsPort });
  wss.on('connection', (ws) => ws.on('message', (d) => ws.send(d)));
  const lb = await RustlbProcess.start({
    config: {
      ...config(port, { shutdown_delay: '0s', shutdown_timeout: '30s' }, [tcpFrontend('tcp', tcpPort, 'echo')]),
      backends: [backend('pool', [`127.0.0.1:${wsPort}`]), backend('echo', [echo.address])],
    },
  });
  try {
    const session = connect(tcpPort, '127.0.0.1');
    session.setEncoding('utf8');
    await new Promise((r) => session.once('connect', r));
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const wsEcho = (text: string) =>
      new Promise<string>((resolve) => {
        ws.once('message', (d) => resolve(String(d)));
        ws.send(text);
      });
    const tcpEcho = (text: string) =>
      new Promise<string>((resolve) => {
        session.once('data', (d: string) => resolve(d));
        session.write(text);
      });
    assert.equal(await tcpEcho('one'), 'one');
    assert.equal(await wsEcho('one'), 'one');

    lb.child.kill('SIGTERM');
    await waitFor(async () => (await probeConnect(tcpPort)) === 'refused' && (await probeConnect(port)) === 'refused', 'both listeners to stop');
    // Listeners are closed; the established sessions still carry bytes both ways.
    assert.equal(await tcpEcho('two'), 'two');
    assert.equal(await wsEcho('two'), 'two');
    assert.equal(lb.child.exitCode, null, 'still running while sessions are open');

    const t0 = Date.now();
    ws.close();
    session.end();
    const exit = await lb.exited;
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.ok(Date.now() - t0 < 5000, `exit ${Date.now() - t0} ms after the last session ended`);
  } finally {
    await lb.dispose();
    wss.close();
  }
});

test('SIGINT drains like SIGTERM; a second SIGINT exits at once', async () => {
  const port = await freePort();
  const lb = await RustlbProcess.start({ config: config(port, { shutdown_delay: '0s', shutdown_timeout: '30s' }) });
  try {
    const workers = lb.workerPids();
    const seen = upstream.requests.length;
    const hung = get(port, { path: '/hang', timeoutMs: 20_000 }).catch(() => null);
    await waitFor(() => upstream.requests.slice(seen).some((r) => r.url === '/hang'), 'the request to reach the upstream');
    lb.child.kill('SIGINT');
    await waitFor(async () => (await lb.readyz()).status === 503, '/readyz to fail');
    await waitFor(async () => (await probeConnect(port)) === 'refused', 'the listener to stop');
    assert.equal(lb.child.exitCode, null, 'waiting for the in-flight request');
    const t0 = Date.now();
    lb.child.kill('SIGINT');
    const exit = await lb.exited;
    assert.ok(Date.now() - t0 < 3000, `second SIGINT took ${Date.now() - t0} ms`);
    assert.equal(exit.signal, null);
    assert.notEqual(exit.code, 0, 'a forced exit is not a clean one');
    await waitFor(() => workers.every((pid) => !alive(pid)), 'the workers to be gone too', 3000);
    await hung;
    assert.ok(lb.logs.some((l) => l.msg === 'forced exit'));
  } finally {
    await lb.dispose();
  }
});

test('SIGTERM while the workers are still starting: exit 0, no worker left behind', async () => {
  const port = await freePort();
  const lb = await RustlbProcess.start({ config: config(port, {}), waitReady: false });
  try {
    await lb.waitForLog((l) => l.msg === 'worker forked', 'a worker to be forked');
    lb.child.kill('SIGTERM');
    const exit = await lb.exited;
    assert.deepEqual(exit, { code: 0, signal: null }, lb.stderr);
    const pids = lb.logs.filter((l) => l.msg === 'worker forked').map((l) => l.workerPid as number);
    await waitFor(() => pids.every((pid) => !alive(pid)), 'every forked worker to be gone', 5000);
  } finally {
    await lb.dispose();
  }
});
