import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  backend,
  freePorts,
  frontend,
  type HttpUpstream,
  httpCheck,
  httpLoad,
  type Load,
  lbConfig,
  RustlbProcess,
  type ServerSpec,
  startHttpUpstream,
  startTcpUpstream,
  type TcpUpstream,
  tcpFrontend,
  tcpLoad,
  waitFor,
} from '@rustlb/testkit';
import { WebSocket, WebSocketServer } from 'ws';

// The promise operators rely on most: reloading never costs a request or a connection.
// Twenty reloads, each changing something different, while keep-alive and
// new-connection HTTP clients, TCP clients and long-lived sessions run flat out.
// RUSTLB_TEST_RELOADS=100 runs the longer bar by hand (about 12 s on 2 cores).
const RELOADS = Number(process.env.RUSTLB_TEST_RELOADS ?? 20);

let web: HttpUpstream[];
let tcp: TcpUpstream[];
let wss: WebSocketServer;
let wsPort: number;
let lb: RustlbProcess;
let httpPort: number;
let tcpPort: number;

before(async () => {
  web = await Promise.all(['a', 'b', 'c'].map((n) => startHttpUpstream(n)));
  tcp = await Promise.all([startTcpUpstream(), startTcpUpstream()]);
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => wss.once('listening', r));
  wsPort = (wss.address() as { port: number }).port;
  wss.on('connection', (ws) => ws.on('message', (data) => ws.send(data)));
  [httpPort, tcpPort] = await freePorts(2);
  // Some requests take a while, so that reloads land while they are in flight.
  (web[1] as HttpUpstream).handler = (_req, res) => {
    setTimeout(() => {
      res.writeHead(200, { 'content-length': 2 });
      res.end('b\n');
    }, 20);
  };
  // Reloads here are SIGHUP and rustlb-ctl only, each counted.
  lb = await RustlbProcess.start({ config: config(0), args: ['--no-watch'] });
});

after(async () => {
  await lb?.dispose();
  await Promise.all([...(web ?? []).map((u) => u.close()), ...(tcp ?? []).map((u) => u.close())]);
  wss?.close();
});

const ALGORITHMS = ['round_robin', 'weighted', 'least_connections', 'ip_hash'] as const;

/** Version `n` of the configuration: every reload changes servers, weights, algorithms, headers, routes or health settings. */
function config(n: number): Record<string, unknown> {
  const [a, b, c] = web as [HttpUpstream, HttpUpstream, HttpUpstream];
  const servers: ServerSpec[] = [{ address: a.address, weight: 1 + (n % 3) }, b.address];
  if (n % 2 === 1) servers.push(c.address);
  const tcpServers = n % 4 === 3 ? [(tcp[0] as TcpUpstream).address] : tcp.map((t) => t.address);
  return lbConfig({
    global: { access_log: false },
    health_check_defaults: { interval: `${1 + (n % 3)}s` },
    frontends: [
      frontend('web', httpPort, 'pool', {
        algorithm: ALGORITHMS[n % 4],
        http: { response_headers: { 'X-Generation': String(n) }, request_headers: { 'X-Hop': `reload-${n}` } },
        routes:
          n % 3 === 0
            ? [{ path_prefix: '/ws', backend: 'sockets' }]
            : [
                { path_prefix: '/ws', backend: 'sockets' },
                { path_prefix: '/only-a', backend: 'just-a' },
              ],
      }),
      tcpFrontend('echo', tcpPort, 'echoes', { algorithm: ALGORITHMS[(n + 1) % 4] }),
    ],
    backends: [
      backend('pool', servers, { health_check: httpCheck({ interval: `${1 + (n % 2)}s` }) }),
      backend('just-a', [a.address]),
      backend('sockets', [`127.0.0.1:${wsPort}`]),
      backend('echoes', tcpServers),
    ],
  });
}

function openWebSocket(): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${httpPort}/ws`);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function roundTrip(ws: WebSocket, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no WebSocket echo within 5s')), 5000);
    ws.once('message', (data) => {
      clearTimeout(timer);
      if (String(data) === text) resolve();
      else reject(new Error(`WebSocket echo ${String(data)} for ${text}`));
    });
    ws.send(text);
  });
}

test(`${RELOADS} reloads under continuous HTTP and TCP load: zero failed requests, zero reset connections`, async () => {
  const ws = await openWebSocket();
  let wsClosed: string | null = null;
  ws.once('close', (code) => {
    wsClosed = `closed with ${code}`;
  });
  await roundTrip(ws, 'before');
  const tcpConnectionsBefore = tcp.map((t) => t.connections);
  const loads: Load[] = [
    httpLoad('http keep-alive', httpPort, { concurrency: 3, keepAlive: true }),
    httpLoad('http new connection', httpPort, { concurrency: 2, keepAlive: false }),
    tcpLoad('tcp new connection', tcpPort, { concurrency: 2, mode: 'fresh' }),
    tcpLoad('tcp session', tcpPort, { concurrency: 2, mode: 'session' }),
  ];
  try {
    for (const l of loads) await l.progress(5);
    for (let n = 1; n <= RELOADS; n++) {
      lb.writeConfig(config(n));
      // Some through rustlb-ctl (it returns once every worker applied it), the rest by SIGHUP.
      if (n % 4 === 0) {
        const r = await lb.ctl(['reload', '--json']);
        assert.equal(r.code, 0, `reload ${n}: ${r.stdout}${r.stderr}`);
        assert.equal((JSON.parse(r.stdout) as { accepted: boolean }).accepted, true);
      } else {
        lb.child.kill('SIGHUP');
        await lb.waitForLog((l) => l.msg === 'configuration reloaded' && l.generation === n + 1, `reload ${n} by SIGHUP`);
      }
      // Traffic flowed through every client kind between two reloads.
      for (const l of loads) await l.progress(2);
      await roundTrip(ws, `during ${n}`);
    }
  } finally {
    await Promise.all(loads.map((l) => l.stop()));
  }
  for (const l of loads) assert.equal(l.failures.length, 0, l.describe());
  for (const l of loads) assert.ok(l.ok >= 40, l.describe());
  // The long-lived sessions are the same connections they were before the first reload.
  await roundTrip(ws, 'after');
  assert.equal(wsClosed, null);
  ws.close();
  // The new-connection TCP clients opened connections all along; the sessions did not reconnect.
  assert.ok(tcp.reduce((s, t, i) => s + t.connections - (tcpConnectionsBefore[i] ?? 0), 0) > 0);
  assert.equal(lb.logs.filter((l) => l.msg === 'configuration rejected; the old one stays in force').length, 0);
  assert.equal(lb.logs.filter((l) => l.msg === 'configuration reloaded').length, RELOADS);
  // The last version is in force in every worker.
  await waitFor(async () => (await lb.readyz()).status === 200, 'ready after the reloads');
});
