// `workers: auto` (and no `workers` at all, its default) forks one worker per CPU when
// no --workers is given: os.availableParallelism(), the count the CPU affinity allows.
// The testkit passes --workers unless told `workers: null`; the spawned command line is
// checked too, since on a 2-CPU machine the testkit's default of 2 would give the same
// count.
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { after, before, test } from 'node:test';
import { freePort, type HttpUpstream, RustlbProcess, startHttpUpstream, webPool } from '@rustlb/testkit';

let upstream: HttpUpstream;

before(async () => {
  upstream = await startHttpUpstream('a');
});

after(async () => {
  await upstream?.close();
});

interface StatusJson {
  workers: { slot: number; pid: number; state: string }[];
}

async function config(workers: 'auto' | undefined): Promise<Record<string, unknown>> {
  return webPool(await freePort(), [upstream.address], {
    global: { access_log: false, ...(workers === undefined ? {} : { workers }) },
    backend: { health_check: { interval: '1h' } },
  });
}

for (const [what, workers] of [
  ['workers: auto', 'auto'],
  ['workers absent', undefined],
] as const) {
  test(`${what} and no --workers: one worker per CPU (${availableParallelism()})`, async () => {
    const lb = await RustlbProcess.start({ config: await config(workers), workers: null, args: ['--no-watch'] });
    try {
      assert.ok(!lb.child.spawnargs.includes('--workers'), lb.child.spawnargs.join(' '));
      const r = await lb.ctl(['status', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const status = JSON.parse(r.stdout) as StatusJson;
      assert.equal(status.workers.length, availableParallelism(), r.stdout);
      assert.deepEqual(
        status.workers.map((w) => w.slot).sort((a, b) => a - b),
        [...Array(availableParallelism()).keys()],
      );
      assert.equal(new Set(status.workers.map((w) => w.pid)).size, availableParallelism());
      const started = await lb.waitForLog((l) => typeof l.workers === 'number' && Array.isArray(l.frontends), 'the start-up line');
      assert.equal(started.workers, availableParallelism());
    } finally {
      await lb.dispose();
    }
  });
}
