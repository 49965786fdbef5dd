import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { control, freePort, get, type HttpUpstream, RustlbProcess, startHttpUpstream, waitFor, webPool } from '@rustlb/testkit';

// rustlb-ctl reload returns once every worker has acknowledged the new generation, or,
// after a bounded wait, says which did not. A stalled worker (SIGSTOP) is the one
// that cannot answer; it also takes no new connections from the shared socket.

let upstream: HttpUpstream;
let lb: RustlbProcess;
let port: number;
let stopped: number | null = null;

before(async () => {
  upstream = await startHttpUpstream('a');
  port = await freePort();
  lb = await RustlbProcess.start({ config: config('one'), args: ['--no-watch'] });
});

after(async () => {
  if (stopped !== null) process.kill(stopped, 'SIGCONT');
  await lb?.dispose();
  await upstream?.close();
});

function config(version: string): Record<string, unknown> {
  return webPool(port, [upstream.address], { global: { access_log: false }, frontend: { http: { response_headers: { 'X-Config': version } } } });
}

test('a worker that does not acknowledge is named, and rustlb-ctl exits 1; it catches up when it can', async () => {
  const s = await control<{ workers: { slot: number; pid: number }[] }>(lb.socket, 'status');
  const victim = s.workers.find((w) => w.slot === 1)?.pid as number;
  process.kill(victim, 'SIGSTOP');
  stopped = victim;
  lb.writeConfig(config('two'));
  const started = Date.now();
  const r = await lb.ctl(['reload']);
  const took = Date.now() - started;
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /^reload accepted: generation 2\n/);
  assert.match(r.stdout, /\n {2}applied by workers 0\n/);
  assert.equal(r.stderr, 'rustlb-ctl: workers 1 did not apply generation 2 in time\n');
  assert.ok(took >= 9000 && took < 20_000, `answered after ${took} ms`);
  assert.ok(lb.logs.some((l) => l.msg === 'some workers did not acknowledge the new configuration in time'));

  // Not ready while a worker lags behind, and it says why.
  const ready = await lb.readyz();
  assert.equal(ready.status, 503);
  assert.match(String(ready.body.reason), /config: workers 1 behind generation 2/);
  // The stalled worker accepts nothing: every new connection is served, by the worker that has generation 2.
  for (let i = 0; i < 6; i++) assert.equal((await get(port, { timeoutMs: 5000 })).headers['x-config'], 'two');

  process.kill(victim, 'SIGCONT');
  stopped = null;
  await lb.waitReady();
  const after = await control<{ workers: { pid: number; generation: number }[] }>(lb.socket, 'status');
  assert.deepEqual(
    after.workers.map((w) => w.generation),
    [2, 2],
  );
  assert.ok(
    after.workers.some((w) => w.pid === victim),
    'the same process caught up, it was not replaced',
  );
  await waitFor(async () => (await lb.ctl(['reload'])).code === 0, 'a reload acknowledged by both');
});
