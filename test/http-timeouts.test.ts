// Per-frontend HTTP timeouts and limits (issue 4, SPEC §3): client_idle, upstream_idle,
// max_connections (beyond it connections wait, they are not refused; the workers' shares
// add up to it exactly). client_header, connect and response are in http-smuggling and
// http-failures.
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, before, test } from 'node:test';
import {
  backend,
  freePorts,
  frontend,
  type HttpUpstream,
  lbConfig,
  QUIET_CHECK,
  RawConnection,
  type RawHttpUpstream,
  RustlbProcess,
  startHttpUpstream,
  startRawHttpUpstream,
  waitFor,
} from '@rustlb/testkit';

let upShort: RawHttpUpstream;
let upLong: RawHttpUpstream;
let held: HttpUpstream;
let lb: RustlbProcess;
/** The same build with the primary handing connections to the workers in turn (SCHED_RR). */
let rr: RustlbProcess;
let idleFe: number;
let shortFe: number;
let longFe: number;
let limitedFe: number;
let openFe: number;
let oneFe: number;
let rrThreeFe: number;
let rrOneFe: number;
let rrOpenFe: number;

before(async () => {
  upShort = await startRawHttpUpstream();
  upLong = await startRawHttpUpstream();
  held = await startHttpUpstream('held');
  [idleFe, shortFe, longFe, limitedFe, openFe, oneFe, rrThreeFe, rrOneFe, rrOpenFe] = await freePorts(9);
  lb = await RustlbProcess.start({
    config: lbConfig({
      global: { access_log: false },
      frontends: [
        frontend('idle', idleFe, 'long', { http: { timeouts: { client_idle: '500ms' } } }),
        frontend('short', shortFe, 'short', { http: { timeouts: { upstream_idle: '300ms' } } }),
        frontend('long', longFe, 'long'),
        frontend('limited', limitedFe, 'held', { max_connections: 2 }),
        frontend('open', openFe, 'held'),
        frontend('one', oneFe, 'held', { max_connections: 1 }),
      ],
      backends: [
        backend('short', [upShort.address], { health_check: QUIET_CHECK }),
        backend('long', [upLong.address], { health_check: QUIET_CHECK }),
        backend('held', [held.address], { health_check: QUIET_CHECK }),
      ],
    }),
  });
  // With the default SCHED_NONE the kernel may hand nearly every connection to one worker;
  // taking turns, each worker's share of max_connections is filled every time.
  rr = await RustlbProcess.start({ env: { NODE_CLUSTER_SCHED_POLICY: 'rr' }, config: rrConfig(1) });
});

/** The SCHED_RR instance's configuration, with the `one` frontend's max_connections. */
function rrConfig(oneMax: number): Record<string, unknown> {
  return lbConfig({
    global: { access_log: false },
    frontends: [
      frontend('three', rrThreeFe, 'held', { max_connections: 3 }),
      frontend('one', rrOneFe, 'held', { max_connections: oneMax }),
      frontend('open', rrOpenFe, 'held'),
    ],
    backends: [backend('held', [held.address], { health_check: QUIET_CHECK })],
  });
}

after(async () => {
  await Promise.all([lb?.dispose(), rr?.dispose()]);
  await Promise.all([upShort?.close(), upLong?.close(), held?.close()]);
});

test('http.timeouts.client_idle: an idle keep-alive client connection is closed after it, silently', async () => {
  const conn = await RawConnection.open(idleFe);
  conn.write('GET /idle HTTP/1.1\r\nHost: t.test\r\n\r\n');
  assert.equal((await conn.read()).status, 200);
  const started = Date.now();
  assert.ok(await conn.waitClosed(5000), 'closed');
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 400 && elapsed < 2500, `closed after ${elapsed} ms`);
  assert.equal(conn.pending.length, 0, `nothing sent on an idle close: ${conn.pending.toString('latin1')}`);
  // The default (65 s) keeps a connection through the same wait.
  const other = await RawConnection.open(longFe);
  other.write('GET /idle HTTP/1.1\r\nHost: t.test\r\n\r\n');
  assert.equal((await other.read()).status, 200);
  const idle = await RawConnection.open(idleFe);
  idle.write('GET /idle HTTP/1.1\r\nHost: t.test\r\n\r\n');
  assert.equal((await idle.read()).status, 200);
  assert.ok(await idle.waitClosed(5000));
  assert.equal(other.ended, false);
  other.write('GET /still HTTP/1.1\r\nHost: t.test\r\n\r\n');
  assert.equal((await other.read()).status, 200);
  other.destroy();
});

test('http.timeouts.upstream_idle: a pooled upstream connection is closed after it (and kept longer by default)', async () => {
  const a = await RawConnection.open(shortFe);
  const b = await RawConnection.open(longFe);
  a.write('GET /pool HTTP/1.1\r\nHost: t.test\r\n\r\n');
  b.write('GET /pool HTTP/1.1\r\nHost: t.test\r\n\r\n');
  assert.equal((await a.read()).status, 200);
  assert.equal((await b.read()).status, 200);
  const started = Date.now();
  assert.equal(upShort.open, 1);
  await waitFor(() => upShort.open === 0, 'rustlb to close its idle upstream connection', 5000);
  const elapsed = Date.now() - started;
  assert.ok(elapsed < 2500, `closed after ${elapsed} ms`);
  assert.ok(upLong.open >= 1, 'the default upstream_idle (4 s) keeps it');
  // The client connections are unaffected and the next request opens a new upstream connection.
  a.write('GET /again HTTP/1.1\r\nHost: t.test\r\n\r\n');
  assert.equal((await a.read()).status, 200);
  assert.equal(upShort.requests.at(-1)?.index, 0);
  a.destroy();
  b.destroy();
});

test('max_connections: beyond the limit connections wait (not refused) and are served once others close', async () => {
  const waiting: ServerResponse[] = [];
  held.handler = (_req, res) => {
    waiting.push(res);
  };
  try {
    const before = held.count;
    const conns = await Promise.all(Array.from({ length: 5 }, () => RawConnection.open(limitedFe)));
    conns.forEach((c, i) => {
      c.write(`GET /limited-${i} HTTP/1.1\r\nHost: t.test\r\n\r\n`);
    });
    // A request through a frontend without a limit, sent after them, reaching the upstream
    // shows the workers have had time to pass on whatever they admitted.
    const control = await RawConnection.open(openFe);
    control.write('GET /control HTTP/1.1\r\nHost: t.test\r\n\r\n');
    await waitFor(() => held.requests.some((r) => r.url === '/control'), 'the control request upstream');
    await waitFor(() => held.count - before >= 2, 'the admitted requests upstream');
    const admitted = held.requests.slice(before).filter((r) => r.url.startsWith('/limited-')).length;
    assert.ok(admitted >= 1 && admitted <= 2, `${admitted} connections admitted with max_connections 2`);
    assert.ok(
      conns.every((c) => !c.ended),
      'no connection refused',
    );
    // Answer one at a time; each client closes after its answer, freeing a slot for a waiting one.
    let served = 0;
    while (served < conns.length) {
      await waitFor(() => waiting.length > 0, 'a waiting request to be admitted');
      const res = waiting.shift() as ServerResponse;
      const url = (res.req.url ?? '').replace('/', '');
      if (url === 'control') {
        res.end('control');
        continue;
      }
      res.end(url);
      const i = Number(url.split('-')[1]);
      const conn = conns[i] as RawConnection;
      const r = await conn.read();
      assert.equal(r.body.toString(), url);
      conn.destroy();
      served++;
    }
    assert.equal((await control.read()).status, 200);
    control.destroy();
  } finally {
    held.handler = null;
    for (const res of waiting) res.end();
  }
});

/**
 * Opens `n` connections to `port` one after the other, one request on each, then answers
 * the requests one at a time as they reach the upstream (each client closes after its
 * answer, freeing its slot for a waiting connection). Waits (bounded) for `limit` of them
 * to reach the upstream at once before answering any. Returns the most requests the
 * upstream held at once: the most connections the whole cluster admitted at once.
 */
async function peakThrough(port: number, controlPort: number, n: number, tag: string, limit: number): Promise<number> {
  const waiting: ServerResponse[] = [];
  let peak = 0;
  held.handler = (req, res) => {
    if (!(req.url ?? '').startsWith(`/${tag}-`)) {
      res.end('other');
      return;
    }
    waiting.push(res);
    peak = Math.max(peak, waiting.length);
  };
  const conns: RawConnection[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const c = await RawConnection.open(port);
      conns.push(c);
      c.write(`GET /${tag}-${i} HTTP/1.1\r\nHost: t.test\r\n\r\n`);
    }
    // The limit's worth must arrive (bounded: fewer means a share went unused)...
    await waitFor(() => waiting.length >= limit, `${limit} requests to be admitted at once`);
    // ...then a request through a frontend without a limit, sent after them, answered: the
    // workers have had time to pass on whatever else they admitted (an over-admission).
    const control = await RawConnection.open(controlPort);
    control.write('GET /control HTTP/1.1\r\nHost: t.test\r\n\r\n');
    assert.equal((await control.read()).status, 200);
    control.destroy();
    for (let served = 0; served < n; served++) {
      await waitFor(() => waiting.length > 0, `request ${served + 1} of ${n} to be admitted`);
      const res = waiting.shift() as ServerResponse;
      const url = (res.req.url ?? '').slice(1);
      res.end(url);
      const conn = conns[Number(url.slice(url.lastIndexOf('-') + 1))] as RawConnection;
      assert.equal((await conn.read()).body.toString(), url);
      conn.destroy();
    }
    return peak;
  } finally {
    held.handler = null;
    for (const res of waiting) res.end();
    for (const c of conns) c.destroy();
  }
}

test('max_connections is cluster-wide: 3 over 2 workers is 2 + 1, never 4 at once; every connection is served in turn', async () => {
  const peak = await peakThrough(rrThreeFe, rrOpenFe, 16, 'three', 3);
  assert.equal(peak, 3, `${peak} connections served at once with max_connections 3`);
});

test('max_connections below the worker count: 1 over 2 workers is served one at a time and no connection waits forever', async () => {
  // The second worker's share is 0: it does not listen on the frontend at all, so no
  // connection queues behind a limit that never frees; the first worker takes them all.
  assert.equal(await peakThrough(rrOneFe, rrOpenFe, 8, 'one-rr', 1), 1);
  assert.equal(await peakThrough(oneFe, openFe, 8, 'one', 1), 1);
});

test('max_connections reloaded across the worker count: the second worker listens again when its share becomes 1, and stops at 0', async () => {
  const reload = async (oneMax: number) => {
    rr.writeConfig(rrConfig(oneMax));
    const r = await rr.ctl(['reload', '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  };
  await reload(3);
  assert.equal(await peakThrough(rrOneFe, rrOpenFe, 12, 'up', 3), 3);
  await reload(1);
  assert.equal(await peakThrough(rrOneFe, rrOpenFe, 8, 'down', 1), 1);
});
