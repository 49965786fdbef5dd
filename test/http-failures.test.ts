// Upstream failures (issue 4): retries that are safe and only those, 502/503/504 with
// short bodies naming the cause and the request id, a mid-response failure closing the
// client connection, and stale pooled connections never surfacing as errors.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  Blackhole,
  backend,
  freePorts,
  frontend,
  type HttpUpstream,
  lbConfig,
  QUIET_CHECK,
  RawConnection,
  type RawHttpUpstream,
  RustlbProcess,
  raw,
  startHttpUpstream,
  startRawHttpUpstream,
  statuses,
  waitFor,
} from '@rustlb/testkit';

let good: HttpUpstream;
let slow: HttpUpstream;
let avail: HttpUpstream;
let rawUp: RawHttpUpstream;
let hole: Blackhole;
let lb: RustlbProcess;
let fe: Record<'retry' | 'cto' | 'refused' | 'ctoOnly' | 'slow' | 'avail' | 'raw' | 'rawThenGood', number>;
let refusedA: number;
let refusedB: number;

/** Backends whose servers must stay in rotation however often they fail (the test is about one request). */
const STAY_UP = { health_check: QUIET_CHECK };

before(async () => {
  good = await startHttpUpstream('good');
  slow = await startHttpUpstream('slow');
  avail = await startHttpUpstream('avail');
  rawUp = await startRawHttpUpstream();
  hole = await Blackhole.start();
  const ports = await freePorts(10);
  [refusedA, refusedB] = ports;
  const [, , retry, cto, refused, ctoOnly, slowFe, availFe, rawFe, rawThenGood] = ports;
  fe = { retry, cto, refused, ctoOnly, slow: slowFe, avail: availFe, raw: rawFe, rawThenGood };
  lb = await RustlbProcess.start({
    config: lbConfig({
      global: { access_log: false },
      frontends: [
        frontend('retry', retry, 'mixed'),
        frontend('cto', cto, 'holed', { http: { timeouts: { connect: '300ms' } } }),
        frontend('refused', refused, 'refused'),
        frontend('ctoOnly', ctoOnly, 'hole', { http: { timeouts: { connect: '300ms' } } }),
        frontend('slow', slowFe, 'slow', { http: { timeouts: { response: '400ms' } } }),
        frontend('avail', availFe, 'avail'),
        frontend('raw', rawFe, 'raw'),
        frontend('rawThenGood', rawThenGood, 'rawThenGood'),
      ],
      backends: [
        backend('mixed', [`127.0.0.1:${refusedA}`, `127.0.0.1:${refusedB}`, good.address], STAY_UP),
        backend('holed', [hole.address, good.address], STAY_UP),
        backend('refused', [`127.0.0.1:${refusedA}`], STAY_UP),
        backend('hole', [hole.address], STAY_UP),
        backend('slow', [slow.address], STAY_UP),
        backend('avail', [avail.address]),
        backend('raw', [rawUp.address], STAY_UP),
        backend('rawThenGood', [rawUp.address, good.address], STAY_UP),
      ],
    }),
  });
});

after(async () => {
  await lb?.dispose();
  hole?.close();
  await Promise.all([good?.close(), slow?.close(), avail?.close(), rawUp?.close()]);
});

/** One request on a new connection; the response and how long it took. */
async function timed(port: number, head: string, body = '') {
  const conn = await RawConnection.open(port);
  const started = Date.now();
  conn.write(`${head}\r\n\r\n${body}`);
  const res = await conn.read();
  const ms = Date.now() - started;
  conn.destroy();
  return { res, ms };
}

function assertErrorBody(body: Buffer, text: string, requestId: string | undefined): void {
  const s = body.toString();
  assert.ok(s.length < 200, `error body is short: ${s}`);
  assert.ok(s.startsWith(text), `error body names the cause (${text}): ${s}`);
  assert.ok(requestId !== undefined && s.includes(`request id: ${requestId}`), `error body carries the request id ${requestId}: ${s}`);
}

test('refused connects are retried on the other servers: every request is answered', async () => {
  const before = good.count;
  for (let i = 0; i < 12; i++) {
    const { res } = await timed(fe.retry, `GET /retry-${i} HTTP/1.1\r\nHost: r.test`);
    assert.equal(res.status, 200, res.raw);
    assert.equal(res.body.toString(), 'good\n');
  }
  assert.equal(good.count - before, 12);
});

test('a connect timeout is retried on another server', async () => {
  const times: number[] = [];
  for (let i = 0; i < 6; i++) {
    const { res, ms } = await timed(fe.cto, `GET /cto-${i} HTTP/1.1\r\nHost: r.test`);
    assert.equal(res.status, 200, res.raw);
    times.push(ms);
  }
  // Round robin: some requests met the black hole first and waited for the connect timeout.
  assert.ok(
    times.some((t) => t >= 280),
    `no request waited for the connect timeout: ${times.join(',')}`,
  );
});

test('refused with no other server: 502 naming the cause, with the request id', async () => {
  const { res } = await timed(fe.refused, 'GET /refused HTTP/1.1\r\nHost: r.test\r\nX-Request-ID: refused-1');
  assert.equal(res.status, 502);
  assert.equal(res.headers['x-request-id'], 'refused-1');
  assertErrorBody(res.body, 'upstream connect failed', 'refused-1');
});

test('connect timeout with no other server: 504 after http.timeouts.connect', async () => {
  const { res, ms } = await timed(fe.ctoOnly, 'GET /hole HTTP/1.1\r\nHost: r.test');
  assert.equal(res.status, 504);
  assert.ok(ms >= 280 && ms < 3000, `504 after ${ms} ms`);
  assertErrorBody(res.body, 'upstream connect timed out', res.headers['x-request-id']);
});

test('no response head within http.timeouts.response: 504, not retried', async () => {
  slow.handler = () => {};
  try {
    const before = slow.count;
    const { res, ms } = await timed(fe.slow, 'GET /hang HTTP/1.1\r\nHost: r.test');
    assert.equal(res.status, 504);
    assert.ok(ms >= 380 && ms < 3000, `504 after ${ms} ms`);
    assertErrorBody(res.body, 'upstream timed out', res.headers['x-request-id']);
    assert.equal(slow.count - before, 1);
  } finally {
    slow.handler = null;
  }
});

test('no available server: 503 at once, naming the cause', async () => {
  const key = `avail/${avail.address}`;
  const disabled = await lb.ctl(['disable', key]);
  assert.equal(disabled.code, 0, disabled.stderr + disabled.stdout);
  try {
    await waitFor(async () => (await timed(fe.avail, 'GET /x HTTP/1.1\r\nHost: r.test')).res.status === 503, 'the server out of rotation');
    const { res, ms } = await timed(fe.avail, 'GET /unavailable HTTP/1.1\r\nHost: r.test');
    assert.equal(res.status, 503);
    assert.ok(ms < 500, `503 after ${ms} ms`);
    assertErrorBody(res.body, 'no healthy server', res.headers['x-request-id']);
  } finally {
    assert.equal((await lb.ctl(['enable', key])).code, 0);
  }
  await waitFor(async () => (await timed(fe.avail, 'GET /x HTTP/1.1\r\nHost: r.test')).res.status === 200, 'the server back in rotation');
});

/** The raw upstream: answers `ok`, unless the path asks for a failure. */
function scriptRaw(): void {
  rawUp.handler = (req, socket) => {
    const p = req.path;
    const reused = req.index > 0;
    if (p.startsWith('/reset-on-reuse') && reused) socket.resetAndDestroy();
    else if (p.startsWith('/close-on-reuse') && reused) socket.end();
    else if (p.startsWith('/close-always')) socket.end();
    else if (p === '/head-then-reset') {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789');
      setImmediate(() => socket.resetAndDestroy());
    } else if (p === '/short-body') socket.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789');
    else if (p === '/short-chunked') socket.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n');
    else if (p === '/idle-close') {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      // The server closes its idle keep-alive connection soon after answering.
      setTimeout(() => socket.end(), 100);
    } else socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${p.length}\r\n\r\n${p}`);
  };
}

/** A client keep-alive connection whose worker has a pooled upstream connection already. */
async function warmConnection(): Promise<RawConnection> {
  const conn = await RawConnection.open(fe.raw);
  conn.write('GET /warm HTTP/1.1\r\nHost: r.test\r\n\r\n');
  assert.equal((await conn.read()).status, 200);
  return conn;
}

function seen(path: string) {
  return rawUp.requests.filter((r) => r.path === path);
}

test('a pooled connection reset before any response byte: an idempotent request is retried once on a fresh connection', async () => {
  scriptRaw();
  try {
    for (const method of ['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']) {
      const conn = await warmConnection();
      const path = `/reset-on-reuse-${method}`;
      conn.write(`${method} ${path} HTTP/1.1\r\nHost: r.test\r\n\r\n`);
      const res = await conn.read({ head: method === 'HEAD' });
      assert.equal(res.status, 200, `${method}: ${res.raw}`);
      const attempts = seen(path);
      assert.equal(attempts.length, 2, method);
      assert.ok((attempts[0]?.index ?? 0) > 0, 'first attempt on a pooled connection');
      assert.equal(attempts[1]?.index, 0, 'the retry on a fresh connection');
      conn.destroy();
    }
  } finally {
    rawUp.handler = null;
  }
});

test('a stale pooled connection the server closed while rustlb was reusing it does not surface as 502 (idempotent)', async () => {
  scriptRaw();
  try {
    const conn = await warmConnection();
    conn.write('GET /close-on-reuse HTTP/1.1\r\nHost: r.test\r\n\r\n');
    const res = await conn.read();
    assert.equal(res.status, 200, res.raw);
    assert.equal(seen('/close-on-reuse').length, 2);
    conn.destroy();
  } finally {
    rawUp.handler = null;
  }
});

test('a pooled connection the server closed between requests is not used: the next request is answered', async () => {
  scriptRaw();
  try {
    const conn = await RawConnection.open(fe.raw);
    for (let i = 0; i < 3; i++) {
      const before = rawUp.requests.length;
      conn.write('POST /idle-close HTTP/1.1\r\nHost: r.test\r\nContent-Length: 3\r\n\r\nabc');
      const res = await conn.read();
      assert.equal(res.status, 200, res.raw);
      assert.equal(rawUp.requests.length - before, 1, 'answered on the first attempt');
      // Wait for the fact: the upstream closed the idle connection it answered on.
      const upstreamConnection = rawUp.requests.at(-1)?.connection;
      await waitFor(() => rawUp.open === 0 || rawUp.requests.at(-1)?.connection !== upstreamConnection, 'the upstream to close its idle connection', 5000);
    }
    conn.destroy();
  } finally {
    rawUp.handler = null;
  }
});

test('a non-idempotent request is never retried, even on a reset pooled connection: 502', async () => {
  scriptRaw();
  try {
    for (const [path, body] of [
      ['/reset-on-reuse-post', 'abc'],
      ['/reset-on-reuse-post-empty', ''],
    ] as const) {
      const conn = await warmConnection();
      conn.write(`POST ${path} HTTP/1.1\r\nHost: r.test\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      const res = await conn.read();
      assert.equal(res.status, 502, res.raw);
      assertErrorBody(res.body, 'upstream connection reset', res.headers['x-request-id']);
      assert.equal(seen(path).length, 1, `${path} sent once`);
      conn.destroy();
    }
  } finally {
    rawUp.handler = null;
  }
});

test('a server that closes without answering: 502 after at most one retry', async () => {
  scriptRaw();
  try {
    const { res } = await timed(fe.raw, 'GET /close-always HTTP/1.1\r\nHost: r.test');
    assert.equal(res.status, 502);
    assert.ok(seen('/close-always').length <= 2);
  } finally {
    rawUp.handler = null;
  }
});

test('a server that resets even a fresh connection before answering: an idempotent request goes to another server', async () => {
  scriptRaw();
  try {
    // Round robin, per worker: within a few requests one lands on the closing server first.
    let landed = 0;
    for (let i = 0; i < 20 && landed === 0; i++) {
      const path = `/close-always-then-next-${i}`;
      const { res } = await timed(fe.rawThenGood, `GET ${path} HTTP/1.1\r\nHost: r.test`);
      assert.equal(res.status, 200, res.raw);
      landed = seen(path).length;
      // Tried on its pooled connection, then on a fresh one, then answered by the other server.
      assert.ok(landed === 0 || landed === 2, `${path} tried ${landed} times on the closing server`);
    }
    assert.equal(landed, 2, 'no request landed on the closing server');
  } finally {
    rawUp.handler = null;
  }
});

test('nothing is retried after a response byte; the client connection is closed, never a complete-looking answer', async () => {
  scriptRaw();
  try {
    for (const path of ['/head-then-reset', '/short-body', '/short-chunked']) {
      const before = seen(path).length;
      const r = await raw(fe.raw, `GET ${path} HTTP/1.1\r\nHost: r.test\r\n\r\n`, { idleMs: 3000 });
      assert.equal(r.closed, true, `${path}: client connection closed`);
      assert.deepEqual(statuses(r.data), [200], path);
      assert.match(r.data, /0123456789/);
      if (path === '/short-chunked') assert.doesNotMatch(r.data, /\r\n0\r\n\r\n$/);
      else assert.ok(r.data.length < r.data.indexOf('\r\n\r\n') + 4 + 100, `${path}: body not padded to its length`);
      assert.equal(seen(path).length - before, 1, `${path} not retried`);
    }
  } finally {
    rawUp.handler = null;
  }
});

test('no worker crashed on the way', () => {
  assert.deepEqual(
    lb.logs.filter((l) => l.level === 'fatal' || /died unexpectedly/.test(String(l.msg))),
    [],
  );
});
