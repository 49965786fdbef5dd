// Clients that misbehave in every way an HTTP client can leave a proxy: aborting mid-response,
// mid-upload and while the upstream thinks, resetting mid-chunk, half-closing mid-body,
// leaving after an early answer, pipelining into a cut body, reading nothing. Once they are
// gone, rustlb holds nothing for them: no client connection, no descriptor, no worker lost
// (anchors §3.1: the socket and memory leaks of Node proxies on client aborts). The same
// for upstreams that fail in every way a server can (anchors §3.2).
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, createServer as createTcpServer, type Socket, type Server as TcpServer } from 'node:net';
import { after, before, test } from 'node:test';
import { backend, freePorts, frontend, lbConfig, metricValue, RustlbProcess, waitFor, writeRepeated } from '@rustlb/testkit';

const KIB = 1024;
const chunk = Buffer.alloc(64 * KIB, 97);
let upstream: Server;
let failing: TcpServer;
let lb: RustlbProcess;
let fe: number;
let failingFe: number;

/** How the failing upstream answers, by request path. */
const FAILURES: Record<string, (s: Socket) => void> = {
  '/reset-mid-body': (s) => {
    s.write(`HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n${'x'.repeat(1000)}`, () => s.resetAndDestroy());
  },
  '/close-mid-chunked': (s) => s.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n'),
  '/close-delimited': (s) => s.end(`HTTP/1.1 200 OK\r\n\r\n${'y'.repeat(200_000)}`),
  '/reset-at-once': (s) => s.resetAndDestroy(),
  '/not-http': (s) => s.end('NOT HTTP AT ALL\r\n\r\n'),
  '/two-lengths': (s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc'),
  '/interim-then-close': (s) => s.end('HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n'),
  // No answer: rustlb's response timeout (500 ms) ends it.
  '/silent': () => {},
};

function handle(req: IncomingMessage, res: ServerResponse): void {
  const path = req.url ?? '/';
  if (path === '/big') {
    // 4 MiB, with backpressure: far more than the socket buffers between here and the client.
    res.writeHead(200, { 'content-length': 64 * chunk.length });
    writeRepeated(res, chunk, 64);
  } else if (path === '/slow') {
    const timer = setTimeout(() => res.end('slow'), 300);
    res.on('close', () => clearTimeout(timer));
  } else if (path === '/early') {
    // Answered before the body is read: the rest is the proxy's to drop.
    res.writeHead(413, { 'content-length': 7 });
    res.end('too big');
  } else {
    req.resume();
    req.on('end', () => res.end('ok'));
  }
}

before(async () => {
  upstream = createServer(handle);
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const { port } = upstream.address() as { port: number };
  failing = createTcpServer((socket) => {
    socket.on('error', () => {});
    socket.once('data', (d: Buffer) => {
      const path = d.toString('latin1').split(' ')[1] ?? '';
      (FAILURES[path] ?? ((x: Socket) => x.destroy()))(socket);
    });
  });
  await new Promise<void>((resolve) => failing.listen(0, '127.0.0.1', resolve));
  const failingPort = (failing.address() as { port: number }).port;
  [fe, failingFe] = await freePorts(2);
  lb = await RustlbProcess.start({
    config: lbConfig({
      global: { access_log: false },
      frontends: [
        // Pooled upstream connections close soon when idle, so descriptors settle quickly.
        frontend('web', fe, 'app', { http: { timeouts: { client_stall: '1s', upstream_idle: '300ms' } } }),
        frontend('failing', failingFe, 'failing', { http: { timeouts: { response: '500ms' } } }),
      ],
      backends: [
        backend('app', [`127.0.0.1:${port}`], { health_check: { interval: '1h' } }),
        // Failures must not take the one server out: the test is about what each leaves behind.
        backend('failing', [`127.0.0.1:${failingPort}`], { health_check: { interval: '1h', unhealthy_threshold: 100000 } }),
      ],
    }),
  });
});

after(async () => {
  await lb?.dispose();
  upstream?.closeAllConnections();
  upstream?.close();
  failing?.close();
});

/** Client sockets not closed yet, by misbehaviour. */
const open = new Map<string, Set<Socket>>();

/** Opens a client connection and runs `act` once connected; the socket counts as open until it closes (by either side). */
function client(name: string, act: (s: Socket) => void): void {
  const s = connect({ port: fe, host: '127.0.0.1' });
  const set = open.get(name) ?? new Set<Socket>();
  open.set(name, set);
  set.add(s);
  s.on('error', () => {});
  s.on('close', () => set.delete(s));
  // Reads (and drops) what comes, so that it sees rustlb close; READS_NOTHING pauses again.
  s.resume();
  s.once('connect', () => act(s));
}

/**
 * Waits until at most `most` clients of each misbehaviour are open. A client that reads
 * nothing cannot see rustlb close its connection, so it is left out: rustlb's side of it
 * is counted by rustlb_active_connections.
 */
async function settled(most: number, what: string): Promise<void> {
  const left = () => [...open].filter(([name, set]) => name !== READS_NOTHING && set.size > most);
  await waitFor(() => left().length === 0, what, 10_000).catch((err) => {
    throw new Error(`${(err as Error).message}; still open: ${JSON.stringify(left().map(([name, set]) => `${name}: ${set.size}`))}`);
  });
}

const READS_NOTHING = 'reads nothing, then half-closes';
const POST_HEAD = (path: string, length: number) => `POST ${path} HTTP/1.1\r\nHost: a.test\r\nContent-Length: ${length}\r\n\r\n`;

/** Each way to leave; every one ends with its connection closed by the client or, for those that only half-close, by rustlb. */
const MISBEHAVIOURS: Record<string, (s: Socket) => void> = {
  'aborts mid-response': (s) => {
    s.write('GET /big HTTP/1.1\r\nHost: a.test\r\n\r\n');
    s.once('data', () => s.destroy());
  },
  'aborts while the upstream thinks': (s) => {
    s.write('GET /slow HTTP/1.1\r\nHost: a.test\r\n\r\n');
    setImmediate(() => s.destroy());
  },
  'resets mid-upload': (s) => {
    s.write(POST_HEAD('/sink', 1024 * KIB));
    s.write(chunk, () => s.resetAndDestroy());
  },
  'resets mid-chunk': (s) => {
    s.write('POST /sink HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n10000\r\n');
    s.write(chunk.subarray(0, 1000), () => s.resetAndDestroy());
  },
  'half-closes mid-body': (s) => {
    s.end(`${POST_HEAD('/sink', 10)}01234`);
  },
  'leaves after an early answer, body unsent': (s) => {
    s.write(POST_HEAD('/early', 1024 * KIB));
    s.write(chunk);
    s.once('data', () => s.end());
  },
  'pipelines into a cut body, then aborts': (s) => {
    s.write(`GET /slow HTTP/1.1\r\nHost: a.test\r\n\r\nGET /slow HTTP/1.1\r\nHost: a.test\r\n\r\n${POST_HEAD('/sink', 100)}abc`);
    setImmediate(() => s.destroy());
  },
  [READS_NOTHING]: (s) => {
    s.pause();
    s.end('GET /big HTTP/1.1\r\nHost: a.test\r\n\r\n');
  },
  'aborts a WebSocket handshake': (s) => {
    s.write(
      'GET /ws HTTP/1.1\r\nHost: a.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    setImmediate(() => s.destroy());
  },
};

function descriptors(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

test('after 270 clients that leave in nine bad ways, rustlb holds no connection and no descriptor for them, and no worker died', async () => {
  const pids = lb.workerPids();
  assert.equal(pids.length, 2);
  const baseline = pids.map(descriptors);
  for (let round = 0; round < 30; round++) {
    for (const [name, act] of Object.entries(MISBEHAVIOURS)) client(name, act);
    // A few at a time, so the worker sees them interleaved rather than as one burst.
    if (round % 5 === 4) await settled(5, 'the clients so far to finish');
  }
  // Those that only half-closed are closed by rustlb: at once, or after client_stall (1 s).
  await settled(0, 'every client connection to be closed');
  await waitFor(async () => metricValue(await lb.metrics(), 'rustlb_active_connections', { frontend: 'web' }) === 0, 'no client connection counted', 5000);
  // Upstream connections close after upstream_idle; then each worker is back to what it held before.
  await waitFor(() => pids.every((pid, i) => descriptors(pid) <= (baseline[i] as number)), 'descriptors back to the baseline', 10_000).catch((err) => {
    throw new Error(`${(err as Error).message}: before ${baseline.join('/')}, now ${pids.map(descriptors).join('/')}`);
  });
  for (const set of open.values()) for (const s of set) s.destroy();
  assert.deepEqual(lb.workerPids(), pids, 'no worker was replaced');
  assert.equal(lb.logs.filter((l) => l.level === 'fatal' || l.msg === 'worker exited').length, 0);
});

test('after 120 requests to an upstream that fails in eight ways, every client has its answer or a closed connection, and rustlb holds nothing for them', async () => {
  const pids = lb.workerPids();
  const baseline = pids.map(descriptors);
  const answers = new Map<string, Set<number>>();
  const pending = new Set<Socket>();
  for (let round = 0; round < 15; round++) {
    for (const path of Object.keys(FAILURES)) {
      const s = connect({ port: failingFe, host: '127.0.0.1' });
      pending.add(s);
      let got = '';
      s.on('error', () => {});
      s.on('data', (d: Buffer) => {
        if (got.length < 20) got += d.toString('latin1', 0, 20);
      });
      s.on('close', () => {
        pending.delete(s);
        const seen = answers.get(path) ?? new Set<number>();
        answers.set(path, seen);
        seen.add(Number(got.slice(9, 12)) || 0);
      });
      s.write(`GET ${path} HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n`);
    }
    await waitFor(() => pending.size <= 16, 'the requests so far to end', 10_000);
  }
  await waitFor(() => pending.size === 0, 'every client connection to be closed', 10_000);
  // The status each client saw: 200 for the two cut mid-body (their connection closed before the body was whole; http-failures checks that), rustlb's own 502/504 for the rest.
  assert.deepEqual(Object.fromEntries([...answers].map(([path, seen]) => [path, [...seen].sort()])), {
    '/reset-mid-body': [200],
    '/close-mid-chunked': [200],
    '/close-delimited': [200],
    '/reset-at-once': [502],
    '/not-http': [502],
    '/two-lengths': [502],
    '/interim-then-close': [502],
    '/silent': [504],
  });
  await waitFor(async () => metricValue(await lb.metrics(), 'rustlb_active_connections', { frontend: 'failing' }) === 0, 'no client connection counted', 5000);
  await waitFor(() => pids.every((pid, i) => descriptors(pid) <= (baseline[i] as number)), 'descriptors back to the baseline', 10_000).catch((err) => {
    throw new Error(`${(err as Error).message}: before ${baseline.join('/')}, now ${pids.map(descriptors).join('/')}`);
  });
  assert.deepEqual(lb.workerPids(), pids, 'no worker was replaced');
  assert.equal(lb.logs.filter((l) => l.level === 'fatal' || l.msg === 'worker exited').length, 0);
});
