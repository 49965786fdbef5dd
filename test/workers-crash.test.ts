import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { control, freePort, freePorts, get, httpLoad, type LogLine, metricValue, RustlbProcess, waitFor } from '@rustlb/testkit';
import { WebSocket } from 'ws';
import { alive, pidOfSlot, workerFixture } from './support/worker-fixture.js';

// Worker crashes: replaced with capped exponential backoff and logged with their exit
// signal or code; a crash loop shows in status and metrics and never takes the other workers
// down; deliberate stops are not crashes; and (the architecture rule) a worker killed
// under load costs only the requests it had in flight: the kernel spreads connections
// over the workers' shared socket (SCHED_NONE), so the others keep accepting.

const fixture = workerFixture();
const config = fixture.config;

interface StatusJson {
  workers: { slot: number; pid: number; state: string; restarts: number; crashLoop: boolean; lastExit?: string | null }[];
}

/** Straight from the control socket: rustlb-ctl's answer without the cost of starting a process. */
function status(lb: RustlbProcess): Promise<StatusJson> {
  return control<StatusJson>(lb.socket, 'status');
}

/**
 * Slot 0's worker `victim` was replaced (respawned, ready, counted once, its exit shown in
 * status) and `survivor` in slot 1 was not touched. Returns the replacement's pid.
 */
async function assertReplaced(lb: RustlbProcess, victim: number, survivor: number, lastExit: string): Promise<number> {
  const respawned = await lb.waitForLog((l) => l.msg === 'worker respawned' && l.replaces === victim, 'the respawn');
  await lb.waitForLog((l) => l.msg === 'worker ready' && l.workerPid === respawned.workerPid, 'the new worker to be ready');
  assert.ok(alive(survivor), 'the other worker was not touched');
  await lb.waitReady();
  assert.equal(metricValue(await lb.metrics(), 'rustlb_worker_restarts_total'), 1);
  const s = await status(lb);
  assert.deepEqual(
    s.workers.map((w) => [w.slot, w.restarts, w.lastExit, w.crashLoop]),
    [
      [0, 1, lastExit, false],
      [1, 0, null, false],
    ],
  );
  return respawned.workerPid as number;
}

describe('crashes', () => {
  let lb: RustlbProcess;
  let httpPort: number;

  before(async () => {
    const [h, t] = await freePorts(2);
    httpPort = h;
    lb = await RustlbProcess.start({ config: config(h, t) });
  });

  after(async () => {
    await lb?.dispose();
  });

  test('a worker killed under load costs only its own in-flight requests; it is replaced and its exit signal logged', async () => {
    const victim = pidOfSlot(lb, 0);
    const survivor = pidOfSlot(lb, 1);
    const load = httpLoad('new connections', httpPort, { concurrency: 8, keepAlive: false, path: '/slow' });
    let inFlight: number;
    let killedAt: number;
    let died: LogLine;
    try {
      await load.progress(30);
      inFlight = load.inFlight;
      killedAt = Date.now();
      process.kill(victim, 'SIGKILL');
      died = await lb.waitForLog((l) => l.msg === 'worker died unexpectedly; respawning' && l.workerPid === victim, 'the crash line');
      await load.progress(60);
    } finally {
      await load.stop();
    }
    // Every failure is a request that was already in flight when the worker died; none started after.
    assert.deepEqual(
      load.failures.filter((f) => f.started >= killedAt),
      [],
      load.describe(),
    );
    assert.ok(load.failures.length <= inFlight, `${load.failures.length} failures, ${inFlight} requests were in flight: ${load.describe()}`);
    assert.equal(died.signal, 'SIGKILL');
    assert.equal(died.code, null);
    assert.equal(died.respawnInMs, 100);
    assert.equal(died.level, 'error');
    const replacement = await assertReplaced(lb, victim, survivor, 'signal SIGKILL');

    // A rolling restart stops workers on purpose: logged as exits, not crashes, and not counted.
    const r = await lb.ctl(['restart-workers']);
    assert.equal(r.code, 0, r.stderr);
    const old = [replacement, survivor];
    for (const pid of old) await lb.waitForLog((l) => l.msg === 'worker exited' && l.workerPid === pid, `worker ${pid} to exit`);
    assert.ok(!lb.logs.some((l) => l.msg === 'worker died unexpectedly; respawning' && old.includes(l.workerPid as number)));
    assert.equal(metricValue(await lb.metrics(), 'rustlb_worker_restarts_total'), 1);
  });

  test('a crash loop backs off exponentially, shows in status and metrics, and the other worker serves on', async () => {
    const survivor = pidOfSlot(lb, 1);
    const before = metricValue(await lb.metrics(), 'rustlb_worker_restarts_total') ?? 0;
    const load = httpLoad('during the crash loop', httpPort, { concurrency: 2, keepAlive: false });
    const delays: number[] = [];
    try {
      // Kill slot 0 as soon as each replacement is up: four quick crashes in a row.
      for (let i = 0; i < 4; i++) {
        const pid = pidOfSlot(lb, 0);
        await lb.waitForLog((l) => l.msg === 'worker ready' && l.workerPid === pid, `worker ${pid} to be ready`);
        process.kill(pid, 'SIGKILL');
        const died = await lb.waitForLog((l) => l.msg === 'worker died unexpectedly; respawning' && l.workerPid === pid, 'the crash line');
        delays.push(died.respawnInMs as number);
        if (i < 3) await lb.waitForLog((l) => l.msg === 'worker respawned' && l.replaces === pid, 'the respawn');
      }
      assert.deepEqual(delays, [100, 200, 400, 800]);
      // Between the fourth crash and its respawn the slot has no process: status still shows it.
      const s = await status(lb);
      const slot0 = s.workers.filter((w) => w.slot === 0);
      assert.equal(slot0.length, 1, JSON.stringify(s.workers));
      assert.equal(slot0[0]?.state, 'respawning');
      assert.equal(slot0[0]?.crashLoop, true);
      assert.equal(slot0[0]?.lastExit, 'signal SIGKILL');
      const human = await lb.ctl(['status']);
      // By the time rustlb-ctl has started the slot may be respawning or starting again: a crash loop either way.
      assert.match(human.stdout, /\n {2}0 .*\(crash loop\) .*signal SIGKILL\n/);
      assert.equal(metricValue(await lb.metrics(), 'rustlb_worker_restarts_total'), before + 4);
      // Through all of it the other worker served: a new connection every time, never refused.
      await load.progress(5);
    } finally {
      await load.stop();
    }
    assert.ok(alive(survivor), 'the other worker lived through the crash loop');
    assert.equal(pidOfSlot(lb, 1), survivor);
    assert.ok(
      load.failures.every((f) => !/ECONNREFUSED/.test(f.error)),
      load.describe(),
    );
    await lb.waitForLog(
      (l) =>
        l.msg === 'worker ready' && l.worker === 0 && !lb.logs.some((d) => d.msg === 'worker died unexpectedly; respawning' && d.workerPid === l.workerPid),
      'slot 0 to come back',
      10_000,
    );
  });
});

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/**
 * A base for `--inspect-port`: node:cluster gives the n-th forked worker base + n, so the
 * first worker (slot 0) would open its inspector on base + 1, which must be free.
 */
async function inspectBase(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const base = await freePort();
    if (base < 65535 && (await canListen(base + 1))) return base;
  }
  throw new Error('no free port pair for the inspector');
}

/**
 * Runs `expression` in a live process through its inspector (the DevTools protocol), as a
 * debugger attached to it would. Resolves on the answer, or when the process goes away.
 */
function evaluateIn(url: string, expression: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`no answer from the inspector at ${url}`));
    }, 10_000);
    const done = () => {
      clearTimeout(timer);
      ws.close();
      resolve();
    };
    ws.once('open', () => ws.send(JSON.stringify({ id: 1, method: 'Runtime.evaluate', params: { expression } })));
    ws.on('message', (data) => {
      if ((JSON.parse(String(data)) as { id?: number }).id === 1) done();
    });
    ws.once('close', done);
    ws.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

describe('a worker that exits with a code', () => {
  let lb: RustlbProcess;
  let httpPort: number;

  before(async () => {
    const [h, t] = await freePorts(2);
    httpPort = h;
    // Only where a worker's inspector listens once it is asked to (SIGUSR1): nothing else changes.
    const base = await inspectBase();
    lb = await RustlbProcess.start({ config: config(h, t), env: { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --inspect-port=${base}`.trim() } });
  });

  after(async () => {
    await lb?.dispose();
  });

  test('an uncaught exception: exit code 1 logged as a crash (code 1, no signal), and the worker is respawned', async () => {
    const victim = pidOfSlot(lb, 0);
    const survivor = pidOfSlot(lb, 1);
    // The real path to a non-zero exit: an exception nothing catches reaches the worker's
    // uncaughtException handler, which logs it and exits 1. A debugger attached from outside
    // (SIGUSR1 opens the inspector) throws one on a later turn of the event loop.
    process.kill(victim, 'SIGUSR1');
    const url = (await waitFor(() => /Debugger listening on (ws:\/\/127\.0\.0\.1:\d+\/[\w-]+)/.exec(lb.stderr)?.[1], "the worker's inspector")) as string;
    await evaluateIn(url, "setImmediate(() => { throw new Error('thrown by the debugger'); })");

    const fatal = await lb.waitForLog((l) => l.msg === 'worker crashed (uncaught exception)' && l.worker === 0, 'the worker to log its crash');
    assert.equal(fatal.level, 'fatal');
    assert.equal((fatal.err as { message?: string } | undefined)?.message, 'thrown by the debugger');
    const died = await lb.waitForLog((l) => l.msg === 'worker died unexpectedly; respawning' && l.workerPid === victim, 'the crash line');
    assert.equal(died.code, 1);
    assert.equal(died.signal, null);
    assert.equal(died.level, 'error');
    assert.equal(died.respawnInMs, 100);
    assert.ok(!lb.logs.some((l) => l.msg === 'worker exited' && l.workerPid === victim), 'not taken for a deliberate stop');

    await assertReplaced(lb, victim, survivor, 'code 1');
    for (let i = 0; i < 4; i++) assert.equal((await get(httpPort)).status, 200);
  });
});
