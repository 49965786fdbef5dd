// The TCP proxy (issue 4): bytes both ways unchanged, half-close honoured, refused and
// black-holed upstreams, idle timeout, both sides closed when either fails, and round
// robin over new sessions.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { Blackhole, backend, freePorts, lbConfig, QUIET_CHECK, RustlbProcess, startTcpUpstream, type TcpUpstream, tcpFrontend, waitFor } from '@rustlb/testkit';

let echo: TcpUpstream;
let replyOnEnd: TcpUpstream;
let hole: Blackhole;
let lb: RustlbProcess;
let echoFe: number;
let endFe: number;
let refusedFe: number;
let holeFe: number;
let idleFe: number;
let neverFe: number;
let refusedPort: number;

before(async () => {
  echo = await startTcpUpstream();
  replyOnEnd = await startTcpUpstream();
  // Reads until the client's FIN, then answers and closes: the reply can only arrive after a half-close.
  replyOnEnd.onConnection = (socket) => {
    let n = 0;
    socket.on('data', (c: Buffer) => {
      n += c.length;
    });
    socket.once('end', () => socket.end(`got ${n} bytes`));
  };
  hole = await Blackhole.start();
  [echoFe, endFe, refusedFe, holeFe, idleFe, neverFe, refusedPort] = await freePorts(7);
  lb = await RustlbProcess.start({
    config: lbConfig({
      global: { access_log: false },
      frontends: [
        tcpFrontend('echo', echoFe, 'echo'),
        tcpFrontend('end', endFe, 'end'),
        tcpFrontend('refused', refusedFe, 'refused'),
        tcpFrontend('hole', holeFe, 'hole', { tcp: { connect_timeout: '400ms' } }),
        tcpFrontend('idle', idleFe, 'echo', { tcp: { idle_timeout: '500ms' } }),
        tcpFrontend('never', neverFe, 'echo', { tcp: { idle_timeout: '0s' } }),
      ],
      backends: [
        backend('echo', [echo.address], { health_check: QUIET_CHECK }),
        backend('end', [replyOnEnd.address], { health_check: QUIET_CHECK }),
        backend('refused', [`127.0.0.1:${refusedPort}`], { health_check: QUIET_CHECK }),
        backend('hole', [hole.address], { health_check: QUIET_CHECK }),
      ],
    }),
  });
});

after(async () => {
  await lb?.dispose();
  hole?.close();
  await Promise.all([echo?.close(), replyOnEnd?.close()]);
});

interface Session {
  readonly socket: Socket;
  readonly received: Buffer[];
  /** Resolves when the proxy ends or closes the connection, with the time it took since `opened`. */
  readonly closed: Promise<number>;
  readonly opened: number;
}

function open(port: number): Promise<Session> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    const received: Buffer[] = [];
    socket.on('data', (c: Buffer) => received.push(c));
    socket.on('error', () => {});
    socket.once('connect', () => {
      const opened = Date.now();
      const closed = new Promise<number>((r) => {
        const done = () => r(Date.now() - opened);
        socket.once('end', done);
        socket.once('close', done);
      });
      resolve({ socket, received, closed, opened });
    });
    socket.once('error', reject);
  });
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms).unref())]);
}

test('half-close: a client that ends its side still receives the whole reply', async () => {
  const s = await open(endFe);
  s.socket.write('x'.repeat(1000));
  s.socket.end();
  await within(s.closed, 5000, 'the reply and the close');
  assert.equal(Buffer.concat(s.received).toString(), 'got 1000 bytes');
  s.socket.destroy();
});

test('10 MiB of random bytes round-trip byte-exact (with half-close at the end)', async () => {
  const data = randomBytes(10 * 1024 * 1024);
  const s = await open(echoFe);
  s.socket.end(data);
  await within(s.closed, 20_000, 'the echo');
  const back = Buffer.concat(s.received);
  assert.equal(back.length, data.length);
  assert.equal(createHash('sha256').update(back).digest('hex'), createHash('sha256').update(data).digest('hex'));
  s.socket.destroy();
});

test('an upstream that refuses: the client is closed at once', async () => {
  const s = await open(refusedFe);
  const ms = await within(s.closed, 3000, 'the close');
  assert.ok(ms < 500, `closed after ${ms} ms`);
  assert.equal(Buffer.concat(s.received).length, 0);
});

test('tcp.connect_timeout to a black-holed address: the client is closed after the timeout', async () => {
  const s = await open(holeFe);
  s.socket.write('hello?');
  const ms = await within(s.closed, 5000, 'the close');
  assert.ok(ms >= 350 && ms < 3000, `closed after ${ms} ms`);
  assert.equal(Buffer.concat(s.received).length, 0);
});

test('tcp.idle_timeout: traffic keeps a session open, silence closes it', async () => {
  const s = await open(idleFe);
  // A byte every 150 ms for 1.2 s in all, well beyond the 500 ms idle timeout.
  let sent = 0;
  const ticker = setInterval(() => {
    if (sent < 8) {
      s.socket.write('a');
      sent++;
    }
  }, 150);
  try {
    await waitFor(() => Buffer.concat(s.received).length >= 8, 'eight echoes', 5000);
  } finally {
    clearInterval(ticker);
  }
  const quietFrom = Date.now();
  const ms = await within(s.closed, 5000, 'the idle close');
  const quiet = Date.now() - quietFrom;
  assert.ok(ms >= 1100, `open for ${ms} ms while busy`);
  assert.ok(quiet >= 400 && quiet < 2500, `closed ${quiet} ms after the last byte`);
});

test('tcp.idle_timeout: 0s means never: a silent session stays open (it was cut after about 50 ms)', async () => {
  const s = await open(neverFe);
  s.socket.write('a');
  await waitFor(() => Buffer.concat(s.received).length >= 1, 'the first echo', 5000);
  // Silence for 1.5 s, thirty times the sweep period a 0 timeout used to get.
  const outcome = await Promise.race([s.closed.then(() => 'closed'), delay(1500).then(() => 'open')]);
  assert.equal(outcome, 'open');
  s.socket.write('b');
  await waitFor(() => Buffer.concat(s.received).toString() === 'ab', 'the echo after the silence', 5000);
  s.socket.destroy();
});

test('both sides are closed when the upstream fails mid-session', async () => {
  const before = echo.connections;
  const s = await open(echoFe);
  s.socket.write('ping');
  await waitFor(() => Buffer.concat(s.received).toString() === 'ping', 'the echo');
  assert.equal(echo.connections, before + 1);
  // The upstream cuts every connection: the client side must close too.
  const port = echo.port;
  const closeAll = echo.close();
  await within(s.closed, 3000, 'the client close');
  await closeAll;
  echo = await startTcpUpstream(port);
});

test('both sides are closed when the client goes away', async () => {
  const s = await open(echoFe);
  s.socket.write('ping');
  await waitFor(() => Buffer.concat(s.received).toString() === 'ping', 'the echo');
  await waitFor(() => echo.open === 1, 'one upstream connection');
  s.socket.destroy();
  await waitFor(() => echo.open === 0, 'the upstream connection closed');
});

test('round robin: with one worker, 10 sessions alternate strictly between two upstreams (5/5)', async () => {
  // Each upstream greets every connection with its name: the session says who served it.
  const named = await Promise.all(
    ['one', 'two'].map(async (name) => {
      const u = await startTcpUpstream();
      u.onConnection = (socket) => socket.write(name);
      return u;
    }),
  );
  const [port] = await freePorts(1);
  const rr = await RustlbProcess.start({
    workers: 1,
    config: lbConfig({
      global: { access_log: false },
      frontends: [tcpFrontend('rr', port as number, 'named', { algorithm: 'round_robin' })],
      backends: [
        backend(
          'named',
          named.map((u) => u.address),
          { health_check: QUIET_CHECK },
        ),
      ],
    }),
  });
  try {
    const served: string[] = [];
    for (let i = 0; i < 10; i++) {
      const s = await open(port);
      const name = await waitFor(
        () => {
          const got = Buffer.concat(s.received).toString();
          return got === 'one' || got === 'two' ? got : null;
        },
        `the greeting of session ${i + 1}`,
        5000,
      );
      served.push(name);
      s.socket.destroy();
    }
    assert.equal(served.filter((n) => n === 'one').length, 5, served.join(' '));
    for (let i = 1; i < served.length; i++) assert.notEqual(served[i], served[i - 1], `not alternating: ${served.join(' ')}`);
  } finally {
    await rr.dispose();
    await Promise.all(named.map((u) => u.close()));
  }
});

test('no worker crashed on the way', () => {
  assert.deepEqual(
    lb.logs.filter((l) => l.level === 'fatal' || /died unexpectedly/.test(String(l.msg))),
    [],
  );
});
