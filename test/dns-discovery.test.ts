import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import {
  backend,
  type DnsServer,
  freePort,
  frontend,
  get,
  HttpUpstream,
  httpCheck,
  type LogLine,
  lbConfig,
  metricValue,
  RustlbProcess,
  startDnsServer,
  tcpFrontend,
  waitFor,
} from '@rustlb/testkit';

// Distinct servers on one port: any 127.0.0.0/8 address is the loopback on Linux.
const NAME = 'web.rustlb.test';
const HOSTS = ['127.0.0.2', '127.0.0.3', '127.0.0.4'] as const;

let dns: DnsServer;
let lb: RustlbProcess;
let port: number;
let httpPort: number;
let tcpPort: number;
const ups = new Map<string, HttpUpstream>();
/** Host headers of the health probes each upstream received. */
const probeHosts = new Map<string, Set<string>>();

function listenAt(u: HttpUpstream, host: string, p: number): Promise<void> {
  return new Promise((resolve, reject) => {
    u.server.once('error', reject);
    u.server.listen(p, host, () => {
      u.server.off('error', reject);
      resolve();
    });
  });
}

/** One upstream per host, all on the same port (found free on every one of them). */
async function startUpstreams(): Promise<number> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const first = new HttpUpstream(HOSTS[0]);
    await listenAt(first, HOSTS[0], 0);
    const p = first.port;
    const started = [first];
    try {
      for (const host of HOSTS.slice(1)) {
        const u = new HttpUpstream(host);
        await listenAt(u, host, p);
        started.push(u);
      }
    } catch {
      for (const u of started) await u.close();
      continue;
    }
    for (const u of started) {
      ups.set(u.name, u);
      probeHosts.set(u.name, new Set());
      // Watches alongside the upstream's own handler.
      u.server.on('request', (req: IncomingMessage) => {
        if (req.url === '/health') probeHosts.get(u.name)?.add(req.headers.host ?? '');
      });
    }
    return p;
  }
  throw new Error('no port free on all of 127.0.0.2-4');
}

function up(host: string): HttpUpstream {
  const u = ups.get(host);
  assert.ok(u !== undefined);
  return u;
}

const key = (host: string) => `pool/${host}:${port}`;

/** The first log line matching `match` written after this call. */
function nextLog(match: (l: LogLine) => boolean, what: string, timeoutMs = 15_000): Promise<LogLine> {
  const from = lb.logs.length;
  return waitFor(() => lb.logs.slice(from).find(match), `log line: ${what}`, timeoutMs);
}

async function servers(): Promise<string[]> {
  const r = await lb.ctl(['status', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout) as { backends: { name: string; servers: { server: string }[] }[] };
  return (s.backends.find((b) => b.name === 'pool')?.servers ?? []).map((x) => x.server).sort();
}

/** Sends requests on new connections until every host in `hosts` answered one; returns who answered. */
async function reach(hosts: readonly string[], timeoutMs = 15_000): Promise<Set<string>> {
  const seen = new Set<string>();
  await waitFor(
    async () => {
      const r = await get(httpPort, { timeoutMs: 5000 });
      assert.equal(r.status, 200, r.text);
      seen.add(r.text.trim());
      return hosts.every((h) => seen.has(h));
    },
    `answers from ${hosts.join(', ')}`,
    timeoutMs,
    5,
  );
  return seen;
}

before(async () => {
  dns = await startDnsServer();
  dns.set(NAME, [HOSTS[0], HOSTS[1]]);
  port = await startUpstreams();
  [httpPort, tcpPort] = [await freePort(), await freePort()];
  lb = await RustlbProcess.start({
    config: lbConfig({
      global: { resolvers: [dns.address] },
      frontends: [frontend('web', httpPort, 'pool'), tcpFrontend('raw', tcpPort, 'pool')],
      backends: [
        backend('pool', [`${NAME}:${port}`], {
          resolve_interval: '300ms',
          health_check: httpCheck({ interval: '300ms', timeout: '2s', unhealthy_threshold: 2, healthy_threshold: 1, cooldown: '1s' }),
        }),
      ],
    }),
    workers: 2,
    waitReady: false,
  });
  await lb.waitReady(45_000);
});

after(async () => {
  await lb?.dispose();
  for (const u of ups.values()) await u.close();
  await dns?.close();
});

test('a host name is resolved at start: every address is a server', async () => {
  // Resolved before the workers got their first table: the very first request is served.
  assert.equal((await get(httpPort)).status, 200);
  await reach([HOSTS[0], HOSTS[1]]);
  assert.deepEqual(await servers(), [key(HOSTS[0]), key(HOSTS[1])]);
  assert.equal(up(HOSTS[2]).count, 0);
  const m = await lb.metrics();
  assert.equal(metricValue(m, 'rustlb_backend_health', { backend: 'pool', server: `${HOSTS[0]}:${port}` }), 1);
  assert.equal(metricValue(m, 'rustlb_backend_health', { backend: 'pool', server: `${HOSTS[1]}:${port}` }), 1);
  // Probes go to each address and name the service in their Host header, as a client would.
  await waitFor(() => probeHosts.get(HOSTS[1])?.size === 1, 'a probe of .3');
  assert.deepEqual([...(probeHosts.get(HOSTS[0]) ?? [])], [`${NAME}:${port}`]);
  assert.deepEqual([...(probeHosts.get(HOSTS[1]) ?? [])], [`${NAME}:${port}`]);
});

test('re-resolved every resolve_interval, by the primary alone', async () => {
  const q0 = dns.queriesFor(NAME, 'A');
  const t0 = Date.now();
  await waitFor(() => dns.queriesFor(NAME, 'A') >= q0 + 8, 'eight more A queries', 20_000);
  const every = (Date.now() - t0) / (dns.queriesFor(NAME, 'A') - q0);
  // 300 ms plus the lookup; two workers resolving too would make it about 150 ms.
  assert.ok(every >= 250, `one lookup every ${Math.round(every)}ms`);
  assert.ok(every <= 1500, `one lookup every ${Math.round(every)}ms`);
});

test('health applies to each resolved address', async () => {
  const bad = up(HOSTS[1]);
  bad.healthStatus = 503;
  const down = await nextLog((l) => l.msg === 'server is unhealthy' && l.server === `${HOSTS[1]}:${port}`, '.3 unhealthy');
  assert.equal(down.backend, 'pool');
  const before = bad.count;
  for (let i = 0; i < 10; i++) assert.equal((await get(httpPort)).text.trim(), HOSTS[0]);
  assert.equal(bad.count, before);
  bad.healthStatus = 200;
  await nextLog((l) => l.msg === 'server is healthy again' && l.server === `${HOSTS[1]}:${port}`, '.3 healthy');
  await reach([HOSTS[0], HOSTS[1]]);
});

test('answers change: servers are added and removed without dropping connections', async () => {
  const leaving = up(HOSTS[0]);
  // A TCP session on the server about to leave, speaking HTTP through the L4 frontend.
  const session = await sessionOn(HOSTS[0]);
  // And an HTTP request held in flight there.
  const held: ServerResponse[] = [];
  leaving.handler = (req, res) => {
    if (req.url === '/hold') held.push(res);
    else {
      res.writeHead(200, { 'content-length': Buffer.byteLength(`${leaving.name}\n`) });
      res.end(`${leaving.name}\n`);
    }
  };
  const pending: Promise<{ status: number; text: string }>[] = [];
  await waitFor(
    async () => {
      const p = get(httpPort, { path: '/hold', timeoutMs: 20_000 });
      pending.push(p);
      // Another server answers at once; the one leaving holds it.
      const quick = await Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 200))]);
      return !quick && held.length > 0;
    },
    'a request held on the leaving server',
    15_000,
    0,
  );

  dns.set(NAME, [HOSTS[1], HOSTS[2]]);
  const changed = await nextLog((l) => l.msg === 'DNS addresses changed', 'new addresses');
  assert.deepEqual(changed.addresses, [HOSTS[1], HOSTS[2]]);
  const seenAt = Date.now();
  const before = leaving.count;
  const seen = await reach([HOSTS[1], HOSTS[2]]);
  assert.ok(!seen.has(HOSTS[0]));
  assert.equal(leaving.count, before, `the removed server got requests sent after ${seenAt}`);
  assert.deepEqual(await servers(), [key(HOSTS[1]), key(HOSTS[2])]);
  assert.equal(metricValue(await lb.metrics(), 'rustlb_backend_health', { server: `${HOSTS[0]}:${port}` }), null);

  // What was in progress on the removed server finishes there.
  for (const res of held) {
    res.writeHead(200, { 'content-length': 5 });
    res.end('held\n');
  }
  const results = await Promise.all(pending);
  assert.ok(results.some((r) => r.status === 200 && r.text === 'held\n'));
  assert.ok(results.every((r) => r.status === 200));
  assert.equal(await session.request(), HOSTS[0]);
  session.close();
});

test('SERVFAIL and timeouts keep the last addresses, with a warning', async () => {
  dns.set(NAME, 'servfail');
  const servfail = await nextLog((l) => l.msg === 'DNS lookup failed; keeping the last known addresses', 'SERVFAIL warning');
  assert.equal(servfail.level, 'warn');
  assert.equal(servfail.code, 'ESERVFAIL');
  assert.deepEqual(servfail.kept, [HOSTS[1], HOSTS[2]]);
  await reach([HOSTS[1], HOSTS[2]]);

  dns.set(NAME, 'timeout');
  const timeout = await nextLog((l) => l.msg === 'DNS lookup failed; keeping the last known addresses' && l.code === 'ETIMEOUT', 'timeout warning', 20_000);
  assert.deepEqual(timeout.kept, [HOSTS[1], HOSTS[2]]);
  await reach([HOSTS[1], HOSTS[2]]);
  assert.deepEqual(await servers(), [key(HOSTS[1]), key(HOSTS[2])]);
});

test('NXDOMAIN or an empty answer means zero servers', async () => {
  dns.set(NAME, 'nxdomain');
  const none = await nextLog((l) => l.msg === 'DNS name has no addresses: no servers for it', 'NXDOMAIN', 20_000);
  assert.equal(none.level, 'warn');
  const r = await get(httpPort);
  assert.equal(r.status, 503);
  assert.deepEqual(await servers(), []);

  dns.set(NAME, [HOSTS[2]]);
  await nextLog((l) => l.msg === 'DNS addresses changed', 'an address again');
  await reach([HOSTS[2]]);

  dns.set(NAME, []);
  await nextLog((l) => l.msg === 'DNS name has no addresses: no servers for it', 'empty answer');
  assert.equal((await get(httpPort)).status, 503);
  assert.deepEqual(await servers(), []);
});

test('AAAA answers count too: an IPv6 address becomes a server beside the IPv4 ones', async () => {
  const v6 = new HttpUpstream('::1');
  try {
    await listenAt(v6, '::1', port);
  } catch (err) {
    // The port was found free on 127.0.0.2-4; ::1 is a different address and may be taken.
    throw new Error(`[::1]:${port} could not be listened on: ${(err as Error).message}`);
  }
  try {
    dns.set(NAME, [HOSTS[0], '::1']);
    await nextLog((l) => l.msg === 'DNS addresses changed', 'the AAAA answer');
    await reach([HOSTS[0], '::1']);
    assert.deepEqual(await servers(), [key(HOSTS[0]), `pool/[::1]:${port}`].sort());
    assert.equal(metricValue(await lb.metrics(), 'rustlb_backend_health', { backend: 'pool', server: `[::1]:${port}` }), 1);
  } finally {
    dns.set(NAME, [HOSTS[0]]);
    await nextLog((l) => l.msg === 'DNS addresses changed', 'back to IPv4 only');
    await v6.close();
  }
});

/** A TCP session through the L4 frontend that landed on `host` (new ones until one does). */
async function sessionOn(host: string): Promise<{ request(): Promise<string>; close(): void }> {
  for (let i = 0; i < 40; i++) {
    const s = await open(tcpPort);
    const session = {
      request: () => httpOver(s),
      close: () => s.destroy(),
    };
    if ((await session.request()) === host) return session;
    session.close();
  }
  throw new Error(`no TCP session landed on ${host}`);
}

function open(p: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(p, '127.0.0.1', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** One keep-alive HTTP/1.1 exchange over a raw socket; resolves with the body (the upstream's name). */
function httpOver(s: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const timer = setTimeout(() => finish(new Error(`no answer over the session (got ${JSON.stringify(got)})`)), 10_000);
    const finish = (err: Error | null, body?: string) => {
      clearTimeout(timer);
      s.off('data', onData);
      s.off('close', onClose);
      if (err !== null) reject(err);
      else resolve(body ?? '');
    };
    const onData = (c: Buffer) => {
      got += c.toString('latin1');
      const end = got.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/content-length: (\d+)/i.exec(got.slice(0, end))?.[1] ?? -1);
      const body = got.slice(end + 4);
      if (length >= 0 && body.length >= length) finish(null, body.slice(0, length).trim());
    };
    const onClose = () => finish(new Error(`session closed (got ${JSON.stringify(got)})`));
    s.on('data', onData);
    s.once('close', onClose);
    s.write('GET /over-tcp HTTP/1.1\r\nHost: session\r\n\r\n');
  });
}
