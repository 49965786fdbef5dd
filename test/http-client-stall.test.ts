// http.timeouts.client_stall: a client that stops sending the request body it owes, or stops
// reading the response, loses its connection and the upstream request is aborted (nginx's
// client_body_timeout and send_timeout, HAProxy's timeout client). Waiting for a slow
// upstream, an upstream pausing mid-stream, a slow but steady reader and a slow upload the
// upstream is slow to take are not stalls.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { backend, freePorts, frontend, lbConfig, RawConnection, RustlbProcess, waitFor, writeRepeated } from '@rustlb/testkit';

const MIB = 1024 * 1024;
const block = Buffer.alloc(MIB, 97);
let upstream: Server;
let lb: RustlbProcess;
let fe: number;
/** What the upstream saw end early: `big` (a response the client stopped reading), `sink` (an upload the client stopped sending). */
const cutShort = new Set<string>();

function big(res: ServerResponse, mib: number): void {
  res.writeHead(200, { 'content-length': mib * MIB });
  res.on('close', () => {
    if (!res.writableFinished) cutShort.add('big');
  });
  writeRepeated(res, block, mib);
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const path = req.url ?? '/';
  if (path === '/big' || path === '/two-mib') {
    big(res, path === '/big' ? 64 : 2);
    return;
  }
  if (path === '/slow-head') {
    setTimeout(() => res.end('late'), 2500);
    return;
  }
  if (path === '/gaps') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('a');
    setTimeout(() => res.write('b'), 1500);
    setTimeout(() => res.end('c'), 3000);
    return;
  }
  // /sink and /slow-sink: read the body (the slow one only once told to), answer its size.
  let n = 0;
  req.on('close', () => {
    if (!req.complete) cutShort.add('sink');
  });
  req.on('data', (c: Buffer) => {
    n += c.length;
  });
  req.on('end', () => res.end(`got ${n}`));
  // Takes nothing of the body for twice client_stall.
  if (path === '/slow-sink') {
    req.pause();
    setTimeout(() => req.resume(), 2000);
  }
}

before(async () => {
  upstream = createServer(handle);
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const address = upstream.address() as { port: number };
  [fe] = await freePorts(1);
  lb = await RustlbProcess.start({
    config: lbConfig({
      global: { workers: 1 },
      frontends: [frontend('web', fe, 'app', { http: { timeouts: { client_stall: '1s' } } })],
      backends: [backend('app', [`127.0.0.1:${address.port}`], { health_check: { interval: '1h' } })],
    }),
  });
});

after(async () => {
  await lb?.dispose();
  upstream?.closeAllConnections();
  await new Promise((resolve) => upstream?.close(resolve));
});

function accessLine(path: string) {
  return lb.waitForLog((l) => l.msg === 'http request' && l.path === path, `the access line of ${path}`, 10_000);
}

/** A GET whose answer is read in full, the reader pausing `pauseMs` after every chunk. */
function getAll(path: string, pauseMs = 0): Promise<{ status: number; length: number; complete: boolean }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: fe, path, agent: false }, (res) => {
      let length = 0;
      res.on('data', (c: Buffer) => {
        length += c.length;
        if (pauseMs > 0) {
          res.pause();
          setTimeout(() => res.resume(), pauseMs);
        }
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, length, complete: res.complete }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

test('a client that reads nothing of a 64 MiB response loses the connection after client_stall; the upstream response is aborted', async () => {
  const socket: Socket = connect(fe, '127.0.0.1');
  socket.pause();
  socket.on('error', () => {});
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write('GET /big HTTP/1.1\r\nHost: stall\r\n\r\n');
  const line = await accessLine('/big');
  assert.equal(line.status, 200);
  assert.equal(line.error, 'RLB_ERR_CLIENT_STALLED');
  assert.ok(Number(line.durationMs) >= 900 && Number(line.durationMs) < 8000, `stalled after ${line.durationMs} ms`);
  await waitFor(() => cutShort.has('big'), 'the upstream response to be aborted', 5000);
  // Reading now, the client finds the connection closed before the body's end.
  let received = 0;
  socket.on('data', (c: Buffer) => {
    received += c.length;
  });
  const closed = new Promise((resolve) => socket.once('close', resolve));
  socket.resume();
  await closed;
  assert.ok(received < 64 * MIB, `${received} bytes received`);
});

test('a client that stops sending the body it announced gets 408 after client_stall; the upstream request is aborted', async () => {
  const conn = await RawConnection.open(fe);
  try {
    conn.write('POST /sink HTTP/1.1\r\nHost: stall\r\nContent-Length: 100000\r\n\r\n');
    conn.write(Buffer.alloc(1000, 120));
    const res = await conn.read({ timeoutMs: 8000 });
    assert.equal(res.status, 408);
    assert.equal(res.headers.connection, 'close');
    assert.match(res.body.toString(), /stopped sending its request body or reading the response/);
    assert.equal(await conn.waitClosed(3000), true);
    await waitFor(() => cutShort.has('sink'), 'the upstream request to be aborted', 5000);
    const line = await accessLine('/sink');
    assert.equal(line.error, 'RLB_ERR_CLIENT_STALLED');
  } finally {
    conn.destroy();
  }
});

test('not stalls: a slow upstream head, an upstream pausing mid-stream, a slow steady reader, an upload the upstream is slow to take', async () => {
  const [slowHead, gaps, slowReader] = await Promise.all([getAll('/slow-head'), getAll('/gaps'), getAll('/two-mib', 100)]);
  assert.deepEqual(slowHead, { status: 200, length: 4, complete: true });
  assert.deepEqual(gaps, { status: 200, length: 3, complete: true });
  assert.deepEqual(slowReader, { status: 200, length: 2 * MIB, complete: true });

  // The client has sent everything; the upstream takes nothing for longer than client_stall.
  // More than the socket buffers on the way hold: rustlb has to stop reading the client.
  const body = Buffer.alloc(32 * MIB, 121);
  const answer = new Promise<string>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: fe, path: '/slow-sink', method: 'POST', agent: false }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => {
        text += c.toString();
      });
      res.on('end', () => resolve(`${res.statusCode} ${text}`));
    });
    req.on('error', reject);
    req.end(body);
  });
  assert.equal(await answer, `200 got ${body.length}`);
  assert.deepEqual(
    lb.logs.filter((l) => l.msg === 'client stalled').map((l) => l.requestId),
    lb.logs.filter((l) => l.error === 'RLB_ERR_CLIENT_STALLED').map((l) => l.requestId),
    'only the two stalled clients above were cut off',
  );
  assert.equal(lb.logs.filter((l) => l.msg === 'client stalled').length, 2);
});
