import assert from 'node:assert/strict';
import { connect, createServer, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import {
  backend,
  freePorts,
  frontend,
  get,
  type HttpUpstream,
  lbConfig,
  RawConnection,
  RustlbProcess,
  startHttpUpstream,
  startTcpUpstream,
  type TcpUpstream,
  tcpFrontend,
  waitFor,
} from '@rustlb/testkit';

// Frontends across reloads: added ones listen once rustlb-ctl returns; removed ones stop
// accepting at once while what they carry finishes; a changed `listen` is a removal
// plus an addition; an address that is taken rejects the whole reload.

let web: HttpUpstream;
let echo: TcpUpstream;
let lb: RustlbProcess;
let ports: number[];
const held: (() => void)[] = [];

before(async () => {
  web = await startHttpUpstream('a');
  web.handler = (req, res) => {
    const answer = () => {
      res.writeHead(200, { 'content-length': 3 });
      res.end('ok\n');
    };
    if (req.url === '/hold') held.push(answer);
    else answer();
  };
  echo = await startTcpUpstream();
  ports = await freePorts(6);
  lb = await RustlbProcess.start({ config: config([http('one', 0)]), args: ['--no-watch'] });
});

after(async () => {
  for (const release of held.splice(0)) release();
  await lb?.dispose();
  await web?.close();
  await echo?.close();
});

/** An HTTP frontend to backend `web` on the `index`th port of the file. */
const http = (name: string, index: number) => frontend(name, ports[index] as number, 'web');

/** A TCP frontend to backend `echo` on the `index`th port of the file. */
const tcp = (name: string, index: number) => tcpFrontend(name, ports[index] as number, 'echo');

function config(frontends: Record<string, unknown>[]): Record<string, unknown> {
  return lbConfig({
    global: { access_log: false, shutdown_timeout: '30s' },
    frontends,
    backends: [backend('web', [web.address]), backend('echo', [echo.address])],
  });
}

async function reload(frontends: Record<string, unknown>[]): Promise<{ code: number; changes: string[]; errors: string[] }> {
  lb.writeConfig(config(frontends));
  const r = await lb.ctl(['reload', '--json']);
  const out = JSON.parse(r.stdout) as { changes: string[]; errors: string[] };
  return { code: r.code, ...out };
}

function accepts(index: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(ports[index] as number, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function openSession(index: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(ports[index] as number, '127.0.0.1');
    s.setEncoding('utf8');
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

function echoOn(s: Socket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no echo of ${text}`)), 5000);
    s.once('data', (d: string) => {
      clearTimeout(timer);
      resolve(d);
    });
    s.write(text);
  });
}

test('added HTTP and TCP frontends listen as soon as the reload returns', async () => {
  assert.equal(await accepts(1), false);
  const r = await reload([http('one', 0), http('two', 1), tcp('three', 2)]);
  assert.equal(r.code, 0);
  assert.deepEqual(r.changes, ['frontend two added', 'frontend three added']);
  // No waiting: rustlb-ctl returned after every worker had bound them.
  for (let i = 0; i < 4; i++) assert.equal((await get(ports[1] as number)).status, 200);
  const s = await openSession(2);
  assert.equal(await echoOn(s, 'hello'), 'hello');
  s.destroy();
});

test('a removed frontend stops accepting at once; its in-flight request and TCP session finish; its idle keep-alive connection closes', async () => {
  const session = await openSession(2);
  assert.equal(await echoOn(session, 'before'), 'before');
  // A keep-alive connection with one finished request, idle when the reload comes.
  const idle = await RawConnection.open(ports[1] as number);
  idle.write('GET / HTTP/1.1\r\nHost: rustlb.test\r\n\r\n');
  const first = await idle.read();
  assert.equal(first.status, 200);
  assert.notEqual(first.headers.connection, 'close');
  const seen = web.requests.length;
  const inFlight = get(ports[1] as number, { path: '/hold', timeoutMs: 15_000 });
  await waitFor(() => web.requests.length > seen && held.length > 0, 'the request to reach the upstream');

  const r = await reload([http('one', 0)]);
  assert.equal(r.code, 0);
  assert.deepEqual(r.changes, ['frontend two removed', 'frontend three removed']);
  // Well before shutdown_timeout (30s): nothing is in flight on it, so nothing to wait for.
  assert.equal(await idle.waitClosed(3000), true, 'the idle keep-alive connection is closed');
  assert.equal(idle.pending.length, 0, 'closed without a response');
  assert.equal(await accepts(1), false, 'the removed HTTP frontend refuses new connections');
  assert.equal(await accepts(2), false, 'the removed TCP frontend refuses new connections');
  // What they carried goes on.
  assert.equal(await echoOn(session, 'after'), 'after');
  for (const release of held.splice(0)) release();
  const done = await inFlight;
  assert.equal(done.status, 200);
  assert.equal(done.headers.connection, 'close', 'the drained frontend closes the connection after the response');
  session.end();
  assert.equal((await get(ports[0] as number)).status, 200, 'the frontend that stays is untouched');
});

test('a changed listen address is a removal plus an addition', async () => {
  await reload([http('one', 0), tcp('moving', 3)]);
  const session = await openSession(3);
  assert.equal(await echoOn(session, 'old address'), 'old address');
  const r = await reload([http('one', 0), tcp('moving', 4)]);
  assert.equal(r.code, 0);
  assert.deepEqual(r.changes, ['frontend moving changed']);
  assert.equal(await accepts(3), false);
  const moved = await openSession(4);
  assert.equal(await echoOn(moved, 'new address'), 'new address');
  // The session on the old address is drained, not cut.
  assert.equal(await echoOn(session, 'still here'), 'still here');
  session.end();
  moved.end();
});

test('a new address already in use rejects the reload, naming it; nothing changes', async () => {
  const squatter = createServer();
  await new Promise<void>((resolve) => squatter.listen(ports[5], '127.0.0.1', () => resolve()));
  try {
    const r = await reload([http('one', 0), http('taken', 5)]);
    assert.equal(r.code, 1);
    assert.equal(r.errors.length, 1);
    assert.match(r.errors[0] as string, new RegExp(`frontend "taken" cannot listen on 127\\.0\\.0\\.1:${ports[5]}: address already in use`));
    const s = await lb.ctl(['status', '--json']);
    assert.deepEqual(
      (JSON.parse(s.stdout) as { frontends: { name: string }[] }).frontends.map((f) => f.name),
      ['one', 'moving'],
    );
    assert.equal((await get(ports[0] as number)).status, 200);
  } finally {
    await new Promise((r) => squatter.close(r));
  }
});
