import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { control, freePorts, httpLoad, type Load, RustlbProcess, tcpLoad, waitFor } from '@rustlb/testkit';
import { alive, pidOfSlot, workerFixture } from './support/worker-fixture.js';

// rustlb-ctl restart-workers: one worker at a time, its replacement listening before it
// drains, no request lost; long-lived sessions stay with the draining worker until they
// end or shutdown_timeout cuts them.

const fixture = workerFixture();
const config = fixture.config;

describe('rustlb-ctl restart-workers', () => {
  let lb: RustlbProcess;
  let httpPort: number;
  let tcpPort: number;

  before(async () => {
    [httpPort, tcpPort] = await freePorts(2);
    lb = await RustlbProcess.start({ config: config(httpPort, tcpPort, { shutdown_timeout: '4s' }) });
  });

  after(async () => {
    await lb?.dispose();
  });

  test('rolling: each new worker is ready before its predecessor drains; zero failed requests under load', async () => {
    const old = [pidOfSlot(lb, 0), pidOfSlot(lb, 1)];
    const loads: Load[] = [
      httpLoad('http keep-alive', httpPort, { concurrency: 3, keepAlive: true }),
      httpLoad('http new connection', httpPort, { concurrency: 3, keepAlive: false }),
      tcpLoad('tcp new connection', tcpPort, { concurrency: 2, mode: 'fresh' }),
    ];
    let out: { restarted: number[]; replaced: { slot: number; oldPid: number; newPid: number }[] };
    try {
      for (const l of loads) await l.progress(10);
      const r = await lb.ctl(['restart-workers', '--json']);
      assert.equal(r.code, 0, r.stderr);
      out = JSON.parse(r.stdout);
      for (const l of loads) await l.progress(10);
      await waitFor(() => old.every((pid) => !alive(pid)), 'the old workers to exit');
      for (const l of loads) await l.progress(10);
    } finally {
      await Promise.all(loads.map((l) => l.stop()));
    }
    for (const l of loads) assert.equal(l.failures.length, 0, l.describe());
    assert.deepEqual(out.restarted, [0, 1]);
    assert.deepEqual(
      out.replaced.map((r) => r.oldPid),
      old,
    );
    // The order in the log: new worker ready, then the old one drains; one slot after the other.
    const index = (msg: string, pid: number) => lb.logs.findIndex((l) => l.msg === msg && l.workerPid === pid);
    for (const { oldPid, newPid } of out.replaced) {
      assert.ok(index('worker ready', newPid) >= 0);
      assert.ok(index('worker ready', newPid) < index('worker draining', oldPid), `worker ${newPid} ready before ${oldPid} drains`);
    }
    const [first, second] = out.replaced as unknown as [{ oldPid: number; newPid: number }, { oldPid: number; newPid: number }];
    assert.ok(index('worker draining', first.oldPid) < index('worker forked', second.newPid), 'one slot at a time');
  });

  test('a long-lived TCP session stays on its old worker while it drains, and is cut at shutdown_timeout', async () => {
    const session = connect(tcpPort, '127.0.0.1');
    session.setEncoding('utf8');
    session.on('error', () => {});
    await new Promise((r) => session.once('connect', r));
    let closedAt = 0;
    session.once('close', () => {
      closedAt = Date.now();
    });
    const roundTrip = (text: string) =>
      new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no echo of ${text} within 5s`)), 5000);
        session.once('data', (d: string) => {
          clearTimeout(timer);
          resolve(d);
        });
        session.once('close', () => reject(new Error(`session closed before the echo of ${text}`)));
        session.write(text);
      });
    assert.equal(await roundTrip('before'), 'before');
    // The one open connection tells which worker carries the session.
    const s = await control<{ workers: { pid: number; activeConnections: number | null }[] }>(lb.socket, 'status');
    const owner = s.workers.find((w) => (w.activeConnections ?? 0) > 0)?.pid;
    assert.ok(owner !== undefined, JSON.stringify(s.workers));
    const restart = lb.ctl(['restart-workers']);
    const draining = await lb.waitForLog((l) => l.msg === 'worker draining' && l.workerPid === owner, 'its worker to drain', 20_000);
    const drainAt = Date.parse(draining.time as string);
    // The worker stopped accepting, yet still carries the session.
    assert.equal(await roundTrip('during the drain'), 'during the drain');
    await waitFor(() => closedAt > 0, 'the session to be cut at the drain deadline', 15_000);
    const cutAfter = closedAt - drainAt;
    assert.ok(cutAfter >= 3500 && cutAfter < 7000, `cut ${cutAfter} ms after its worker began draining, with a 4 s shutdown_timeout`);
    assert.ok(lb.logs.some((l) => l.msg === 'worker did not finish draining in time: killing it' && l.workerPid === owner));
    const r = await restart;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /rolling restart done: 2 worker\(s\) replaced/);
  });
});
