import assert from 'node:assert/strict';
import { createServer as createHttpServer, type IncomingHttpHeaders, type RequestListener, type Server } from 'node:http';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import { TLSSocket } from 'node:tls';
import { Worker } from 'node:worker_threads';
import { type BackendTls, VERSION } from '@rustlb/core';
import { TestPki } from '@rustlb/testkit';
import { LOCAL_PROXY_HEADER, probeHttp, probeTcp } from '../src/index.js';

const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const close of closers.reverse()) await close();
});

function portOf(server: { address(): AddressInfo | string | null }): number {
  return (server.address() as AddressInfo).port;
}

async function httpServer(
  handler: RequestListener,
): Promise<{ server: Server; port: number; seen: { url: string; method: string; headers: IncomingHttpHeaders }[] }> {
  const seen: { url: string; method: string; headers: IncomingHttpHeaders }[] = [];
  const sockets = new Set<Socket>();
  const server = createHttpServer((req, res) => {
    seen.push({ url: req.url ?? '', method: req.method ?? '', headers: req.headers });
    handler(req, res);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => {
    for (const s of sockets) s.destroy();
    return new Promise((r) => server.close(() => r()));
  });
  return { server, port: portOf(server), seen };
}

/** A port on which nothing listens (bound, released). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = portOf(s);
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/**
 * A listener whose accept queue is full: its thread never runs its event loop, so
 * nothing is accepted, and once the kernel's queue holds backlog+1 connections further
 * SYNs are dropped. A connect there neither succeeds nor fails: it times out, as a
 * firewalled or hung server does.
 */
async function blackhole(): Promise<{ port: number; fillers: Socket[] }> {
  const gate = new SharedArrayBuffer(4);
  const worker = new Worker(
    `const { createServer } = require('node:net');
     const { parentPort, workerData } = require('node:worker_threads');
     const s = createServer();
     // backlog 1, not 0: Node turns 0 into its default of 511.
     s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
       parentPort.postMessage(s.address().port);
       Atomics.wait(new Int32Array(workerData), 0, 0);
       process.exit(0);
     });`,
    { eval: true, workerData: gate },
  );
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  const fillers: Socket[] = [];
  closers.push(async () => {
    for (const f of fillers) f.destroy();
    const g = new Int32Array(gate);
    Atomics.store(g, 0, 1);
    Atomics.notify(g, 0);
    await worker.terminate();
  });
  // Fill the queue: of eight connects, backlog+1 = 2 complete and the rest hang, whatever the timing.
  let connected = 0;
  for (let i = 0; i < 8; i++) {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    socket.once('connect', () => connected++);
    fillers.push(socket);
  }
  await waitUntil(() => connected >= 2);
  assert.equal(connected, 2, 'more connections completed than the accept queue holds');
  return { port, fillers };
}

describe('tcp probe', () => {
  test('passes when the server accepts', async () => {
    let accepted = 0;
    const s = createServer((socket) => {
      accepted++;
      socket.destroy();
    });
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise((r) => s.close(() => r())));
    const result = await probeTcp({ host: '127.0.0.1', port: portOf(s), timeoutMs: 2000 });
    assert.deepEqual({ ok: result.ok, reason: result.reason }, { ok: true, reason: null });
    assert.ok(result.durationMs >= 0 && result.durationMs < 2000);
    await waitUntil(() => accepted === 1);
  });

  test('names a refused connection', async () => {
    const result = await probeTcp({ host: '127.0.0.1', port: await closedPort(), timeoutMs: 2000 });
    assert.deepEqual({ ok: result.ok, reason: result.reason }, { ok: false, reason: 'refused' });
  });

  test('names a timeout, bounded by the timeout', async () => {
    const { port } = await blackhole();
    const result = await probeTcp({ host: '127.0.0.1', port, timeoutMs: 300 });
    assert.deepEqual({ ok: result.ok, reason: result.reason }, { ok: false, reason: 'timeout' });
    assert.ok(result.durationMs >= 290 && result.durationMs < 1500, `took ${result.durationMs}ms`);
  });
});

describe('http probe', () => {
  test('GETs the path with a Host header and a User-Agent naming rustlb', async () => {
    const up = await httpServer((_req, res) => res.end('ok'));
    const result = await probeHttp({ host: '127.0.0.1', port: up.port, timeoutMs: 2000, path: '/healthz?deep=1', expectedStatus: 200 });
    assert.deepEqual({ ok: result.ok, reason: result.reason }, { ok: true, reason: null });
    assert.equal(up.seen.length, 1);
    const seen = up.seen[0];
    assert.equal(seen?.method, 'GET');
    assert.equal(seen?.url, '/healthz?deep=1');
    assert.equal(seen?.headers.host, `127.0.0.1:${up.port}`);
    assert.match(seen?.headers['user-agent'] ?? '', /^rustlb\//);
    assert.ok(seen?.headers['user-agent']?.includes(VERSION));
  });

  test('a name resolved by DNS is sent as the Host header', async () => {
    const up = await httpServer((_req, res) => res.end('ok'));
    const result = await probeHttp({ host: '127.0.0.1', port: up.port, timeoutMs: 2000, path: '/', expectedStatus: 200, hostHeader: 'web.example:8080' });
    assert.equal(result.ok, true);
    assert.equal(up.seen[0]?.headers.host, 'web.example:8080');
  });

  test('another status than expected is a failure naming it', async () => {
    const up = await httpServer((_req, res) => {
      res.statusCode = 503;
      res.end('down');
    });
    const result = await probeHttp({ host: '127.0.0.1', port: up.port, timeoutMs: 2000, path: '/', expectedStatus: 200 });
    assert.deepEqual({ ok: result.ok, reason: result.reason }, { ok: false, reason: 'bad status 503' });
  });

  test('expected_status other than 200 is honoured both ways', async () => {
    const up = await httpServer((_req, res) => {
      res.statusCode = 204;
      res.end();
    });
    assert.equal((await probeHttp({ host: '127.0.0.1', port: up.port, timeoutMs: 2000, path: '/', expectedStatus: 204 })).ok, true);
    const r = await probeHttp({ host: '127.0.0.1', port: up.port, timeoutMs: 2000, path: '/', expectedStatus: 200 });
    assert.deepEqual({ ok: r.ok, reason: r.reason }, { ok: false, reason: 'bad status 204' });
  });

  test('the status decides even when the body never ends', async () => {
    const up = await httpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('streaming forever');
    });
    const result = await probeHttp({ host: '127.0.0.1', port: up.port, timeoutMs: 1000, path: '/', expectedStatus: 200 });
    assert.deepEqual({ ok: result.ok, reason: result.reason }, { ok: true, reason: null });
    assert.ok(result.durationMs < 900, `took ${result.durationMs}ms`);
  });

  test('a server that never answers is a timeout, bounded by the timeout', async () => {
    const up = await httpServer(() => {});
    const result = await probeHttp({ host: '127.0.0.1', port: up.port, timeoutMs: 300, path: '/', expectedStatus: 200 });
    assert.deepEqual({ ok: result.ok, reason: result.reason }, { ok: false, reason: 'timeout' });
    assert.ok(result.durationMs >= 290 && result.durationMs < 1500, `took ${result.durationMs}ms`);
  });

  test('a connection reset before the answer is named', async () => {
    const up = await httpServer((req) => req.socket.resetAndDestroy());
    const result = await probeHttp({ host: '127.0.0.1', port: up.port, timeoutMs: 2000, path: '/', expectedStatus: 200 });
    assert.deepEqual({ ok: result.ok, reason: result.reason }, { ok: false, reason: 'reset' });
  });

  test('a connection closed without an answer counts as a reset', async () => {
    const up = await httpServer((req) => req.socket.destroy());
    const result = await probeHttp({ host: '127.0.0.1', port: up.port, timeoutMs: 2000, path: '/', expectedStatus: 200 });
    assert.deepEqual({ ok: result.ok, reason: result.reason }, { ok: false, reason: 'reset' });
  });

  test('names a refused connection', async () => {
    const result = await probeHttp({ host: '127.0.0.1', port: await closedPort(), timeoutMs: 2000, path: '/', expectedStatus: 200 });
    assert.deepEqual({ ok: result.ok, reason: result.reason }, { ok: false, reason: 'refused' });
  });

  test('a timeout on a server with a full accept queue', async () => {
    const { port } = await blackhole();
    const result = await probeHttp({ host: '127.0.0.1', port, timeoutMs: 300, path: '/', expectedStatus: 200 });
    assert.deepEqual({ ok: result.ok, reason: result.reason }, { ok: false, reason: 'timeout' });
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * A server that requires a PROXY header first on every connection, as nginx's
 * `listen ... proxy_protocol` does: a connection that starts with anything but `expected`
 * is reset. After the header, a request head (up to its blank line) gets a 200, and
 * with `http: false` the rest is read to its end. `seen` holds each connection's first
 * bytes, as many as the header has.
 */
async function proxyGate(expected: Buffer, http = true): Promise<{ port: number; seen: Buffer[] }> {
  const seen: Buffer[] = [];
  const gate = createServer((socket) => {
    let got = Buffer.alloc(0);
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      const checked = got.length >= expected.length;
      got = Buffer.concat([got, chunk]);
      if (!checked && got.length >= expected.length) {
        seen.push(got.subarray(0, expected.length));
        if (!got.subarray(0, expected.length).equals(expected)) {
          socket.resetAndDestroy();
          return;
        }
      }
      if (http && got.indexOf('\r\n\r\n', expected.length) >= 0) socket.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok');
    });
  });
  await new Promise<void>((r) => gate.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise((r) => gate.close(() => r())));
  return { port: portOf(gate), seen };
}

describe('probes of a send_proxy backend: a PROXY header of the proxy itself first (v1 UNKNOWN, v2 LOCAL)', () => {
  for (const version of ['v1', 'v2'] as const) {
    test(`${version}: the tcp probe sends the header, exactly`, async () => {
      const gate = await proxyGate(LOCAL_PROXY_HEADER[version], false);
      const result = await probeTcp({ host: '127.0.0.1', port: gate.port, timeoutMs: 2000, sendProxy: version });
      assert.deepEqual({ ok: result.ok, reason: result.reason }, { ok: true, reason: null });
      await waitUntil(() => gate.seen.length === 1);
      assert.deepEqual(gate.seen[0], LOCAL_PROXY_HEADER[version]);
    });

    test(`${version}: the http probe sends the header, then its request; without it the server refuses the check`, async () => {
      const gate = await proxyGate(LOCAL_PROXY_HEADER[version]);
      const target = { host: '127.0.0.1', port: gate.port, timeoutMs: 2000, path: '/health', expectedStatus: 200 };
      const withHeader = await probeHttp({ ...target, sendProxy: version });
      assert.deepEqual({ ok: withHeader.ok, reason: withHeader.reason }, { ok: true, reason: null });
      const without = await probeHttp(target);
      assert.deepEqual({ ok: without.ok, reason: without.reason }, { ok: false, reason: 'reset' });
    });
  }

  test('TLS to the server: the header first, then the handshake (certificate verified), then the request', async () => {
    const pki = await TestPki.create();
    closers.push(async () => pki.dispose());
    const cert = await pki.server({ dns: ['checked.test'], name: 'checked' });
    const header = LOCAL_PROXY_HEADER.v2;
    let requests = 0;
    const gate = createServer((raw) => {
      raw.on('error', () => {});
      raw.once('readable', function read() {
        const first = raw.read(header.length) as Buffer | null;
        if (first === null) {
          raw.once('readable', read);
          return;
        }
        if (!first.equals(header)) {
          raw.resetAndDestroy();
          return;
        }
        // The rest of the connection is TLS, then a request head.
        const tls = new TLSSocket(raw, { isServer: true, cert: cert.certPem, key: cert.keyPem });
        tls.on('error', () => {});
        let head = '';
        tls.on('data', (c: Buffer) => {
          head += c.toString('latin1');
          if (!head.includes('\r\n\r\n')) return;
          requests++;
          tls.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok');
        });
      });
    });
    await new Promise<void>((r) => gate.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise((r) => gate.close(() => r())));
    const tls: BackendTls = {
      verify: true,
      caPem: pki.ca.certPem,
      caFile: null,
      servername: 'checked.test',
      certPem: null,
      keyPem: null,
      certFile: null,
      keyFile: null,
    };
    const target = { host: '127.0.0.1', port: portOf(gate), timeoutMs: 3000, tls, sendProxy: 'v2' as const };
    const http = await probeHttp({ ...target, path: '/health', expectedStatus: 200 });
    assert.deepEqual({ ok: http.ok, reason: http.reason }, { ok: true, reason: null });
    assert.equal(requests, 1);
    const tcp = await probeTcp(target);
    assert.deepEqual({ ok: tcp.ok, reason: tcp.reason }, { ok: true, reason: null });
    // Another name than the certificate's: the verification fails, as the workers' would.
    const wrong = await probeTcp({ ...target, tls: { ...tls, servername: 'other.test' } });
    assert.equal(wrong.ok, false);
  });

  test('the headers are the spec\'s: "PROXY UNKNOWN\\r\\n"; the v2 signature with version 2, command LOCAL, no address', () => {
    assert.equal(LOCAL_PROXY_HEADER.v1.toString('latin1'), 'PROXY UNKNOWN\r\n');
    const v2 = LOCAL_PROXY_HEADER.v2;
    assert.deepEqual(v2.subarray(0, 12), Buffer.from('\r\n\r\n\0\r\nQUIT\n', 'latin1'));
    assert.equal(v2[12], 0x20, 'version 2, LOCAL');
    assert.equal(v2[13], 0x00, 'AF_UNSPEC, UNSPEC');
    assert.equal(v2.readUInt16BE(14), 0, 'no address block');
    assert.equal(v2.length, 16);
  });
});
