import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  ConfigMapVolume,
  control,
  freePort,
  get,
  type HttpUpstream,
  type LogLine,
  RustlbProcess as Rustlb,
  type RustlbProcess,
  saveByRename,
  startHttpUpstream,
  startRustlbAt,
  waitFor,
  webPool,
} from '@rustlb/testkit';

// Every trigger of a reload (SIGHUP, rustlb-ctl reload, the watched file: plain writes,
// save-by-rename, a Kubernetes ConfigMap symlink swap) and --no-watch. Which config is
// in force is read off a response header the config sets.

let upstream: HttpUpstream;

before(async () => {
  upstream = await startHttpUpstream('a');
});

after(async () => {
  await upstream?.close();
});

function config(port: number, version: string): Record<string, unknown> {
  return webPool(port, [upstream.address], { frontend: { http: { response_headers: { 'X-Config': version } } } });
}

async function served(port: number): Promise<string> {
  const r = await get(port, { timeoutMs: 5000 });
  assert.equal(r.status, 200);
  return String(r.headers['x-config']);
}

function reloads(lb: RustlbProcess, trigger?: string): LogLine[] {
  return lb.logs.filter((l) => l.msg === 'configuration reloaded' && (trigger === undefined || l.trigger === trigger));
}

function rejections(lb: RustlbProcess): LogLine[] {
  return lb.logs.filter((l) => l.msg === 'configuration rejected; the old one stays in force');
}

/** Every reload the daemon counted is in the log (lines are written after the workers acknowledged). */
async function settled(lb: RustlbProcess): Promise<void> {
  await waitFor(async () => reloads(lb).length + 1 === (await control<{ generation: number }>(lb.socket, 'status')).generation, 'the reload log to catch up');
}

async function waitServed(port: number, version: string, timeoutMs = 10_000): Promise<void> {
  await waitFor(async () => (await served(port)) === version, `config ${version} to be in force`, timeoutMs);
}

describe('signals, rustlb-ctl and --no-watch', () => {
  let quiet: RustlbProcess;
  let watched: RustlbProcess;
  let quietPort: number;
  let watchedPort: number;

  before(async () => {
    quietPort = await freePort();
    watchedPort = await freePort();
    [quiet, watched] = await Promise.all([
      Rustlb.start({ config: config(quietPort, 'v1'), args: ['--no-watch'] }),
      Rustlb.start({ config: config(watchedPort, 'v1') }),
    ]);
  });

  after(async () => {
    await Promise.all([quiet?.dispose(), watched?.dispose()]);
  });

  test('--no-watch: a changed file is not applied until asked; the watching twin applies it by itself', async () => {
    // Logged as start-up ends, possibly just after /readyz went 200.
    await quiet.waitForLog((l) => l.msg === 'not watching the configuration file (--no-watch)', 'the start-up to say the file is not watched');
    quiet.writeConfig(config(quietPort, 'v2'));
    watched.writeConfig(config(watchedPort, 'v2'));
    await waitServed(watchedPort, 'v2');
    // The twin has seen its change, debounced it and reloaded: the unwatched one had the same time.
    await waitFor(() => reloads(watched).length === 1, 'the watching twin to log its reload');
    assert.equal(await served(quietPort), 'v1');
    assert.equal(reloads(quiet).length, 0);
    // Workers never read the file: one that is replaced now gets v1 from the primary, not the v2 on disk.
    const [victim] = quiet.workerPids();
    assert.ok(victim !== undefined);
    process.kill(victim, 'SIGKILL');
    const respawned = await quiet.waitForLog((l) => l.msg === 'worker respawned' && l.replaces === victim, 'the respawn');
    await quiet.waitForLog((l) => l.msg === 'worker ready' && l.workerPid === respawned.workerPid, 'the new worker to be ready');
    await quiet.waitReady();
    // New connections until the new worker has answered some (the kernel spreads them): every one sees v1.
    const fresh = respawned.workerPid as number;
    await waitFor(
      async () => {
        assert.equal(await served(quietPort), 'v1');
        return quiet.logs.some((l) => l.msg === 'http request' && l.pid === fresh);
      },
      'a request answered by the new worker',
      15_000,
      5,
    );
    assert.equal(reloads(quiet).length, 0);
  });

  test('SIGHUP re-reads and applies the file', async () => {
    // The file holds v2 since the test above.
    quiet.child.kill('SIGHUP');
    await waitFor(() => reloads(quiet, 'SIGHUP').length === 1, 'a reload triggered by SIGHUP');
    assert.equal(await served(quietPort), 'v2');
    assert.equal(reloads(quiet, 'SIGHUP')[0]?.generation, 2);
  });

  test('rustlb-ctl reload applies the file and returns once every worker has it', async () => {
    quiet.writeConfig(config(quietPort, 'v3'));
    const r = await quiet.ctl(['reload', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout) as { accepted: boolean; generation: number; acknowledged: number[]; pending: number[]; changes: string[] };
    assert.equal(result.accepted, true);
    assert.equal(result.generation, 3);
    assert.deepEqual([...result.acknowledged].sort(), [0, 1]);
    assert.deepEqual(result.pending, []);
    assert.deepEqual(result.changes, ['frontend web changed']);
    // Returned after every acknowledgement: the very next request, on a new connection to either worker, sees it.
    for (let i = 0; i < 6; i++) assert.equal(await served(quietPort), 'v3');
    assert.equal(reloads(quiet, 'rustlb-ctl').length, 1);
  });
});

describe('the watched file', () => {
  let lb: RustlbProcess;
  let port: number;

  before(async () => {
    port = await freePort();
    lb = await Rustlb.start({ config: config(port, 'v1') });
  });

  after(async () => {
    await lb?.dispose();
  });

  test('a burst of writes is debounced into one reload of the last version', async () => {
    const writes: number[] = [];
    for (let v = 2; v <= 9; v++) {
      lb.writeConfig(config(port, `v${v}`));
      writes.push(Date.now());
      // Spacing the writes out (30 ms) over more than the debounce window, so a debounce that does not restart on each event shows.
      await new Promise((r) => setTimeout(r, 30));
    }
    await waitServed(port, 'v9');
    await settled(lb);
    const n = reloads(lb, 'file change').length;
    // A loaded machine may space two writes out by more than the quiet time: each such gap may be one more reload.
    const gaps = writes.slice(1).filter((t, i) => t - (writes[i] as number) > 100).length;
    assert.ok(n >= 1 && n <= 1 + gaps, `${n} reloads for a burst of 8 writes (${gaps} gaps over 100 ms)`);
  });

  test('an editor that saves by renaming a temporary file over it', async () => {
    await settled(lb);
    const before = reloads(lb, 'file change').length;
    const text = JSON.stringify({ ...config(port, 'v10'), global: { metrics: { address: `127.0.0.1:${lb.metricsPort}` }, admin: { socket: lb.socket } } });
    saveByRename(lb.configFile, text);
    await waitServed(port, 'v10');
    await settled(lb);
    assert.equal(reloads(lb, 'file change').length, before + 1, JSON.stringify(reloads(lb)));
    assert.equal(rejections(lb).length, 0);
  });

  test('a broken save is rejected with its errors and the old config keeps serving; fixing it applies', async () => {
    writeFileSync(lb.configFile, 'frontends: [\n');
    const line = await lb.waitForLog((l) => l.msg === 'configuration rejected; the old one stays in force', 'the rejection');
    assert.equal(line.trigger, 'file change');
    assert.ok(Array.isArray(line.errors) && line.errors.length > 0, JSON.stringify(line));
    assert.equal(await served(port), 'v10');
    lb.writeConfig(config(port, 'v11'));
    await waitServed(port, 'v11');
  });
});

describe('a Kubernetes ConfigMap volume', () => {
  let lb: RustlbProcess;
  let port: number;
  let dir: string;
  let volume: ConfigMapVolume;
  let metricsPort: number;
  let socket: string;

  const text = (version: string) =>
    `${JSON.stringify({ ...config(port, version), global: { log_level: 'debug', metrics: { address: `127.0.0.1:${metricsPort}` }, admin: { socket } } }, null, 2)}\n`;

  before(async () => {
    port = await freePort();
    metricsPort = await freePort();
    dir = mkdtempSync(join(tmpdir(), 'rustlb-cm-'));
    socket = join(dir, 'ctl.sock');
    // The volume is the directory the pod mounts; the socket lives beside it, as it could not be written inside.
    volume = new ConfigMapVolume(join(dir, 'config'));
    volume.write({ 'rustlb.yaml': text('v1'), 'other.txt': 'unrelated key of the same ConfigMap\n' });
    lb = await startRustlbAt({ configFile: join(volume.dir, 'rustlb.yaml'), dir, metricsPort, socket });
  });

  after(async () => {
    await lb?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  test('each update (new timestamped dir, ..data swapped, old dir removed) is applied once', async () => {
    assert.equal(await served(port), 'v1');
    for (let v = 2; v <= 4; v++) {
      volume.write({ 'rustlb.yaml': text(`v${v}`), 'other.txt': `unrelated ${v}\n` });
      await waitServed(port, `v${v}`);
      await waitFor(() => reloads(lb, 'file change').length === v - 1, `reload ${v - 1} to be logged`);
    }
    assert.equal(rejections(lb).length, 0, JSON.stringify(rejections(lb)));
  });

  test('an update of another key only is noticed and is not a reload', async () => {
    const unchanged = () => lb.logs.filter((l) => l.msg === 'configuration file event; content unchanged').length;
    const before = { reloads: reloads(lb).length, unchanged: unchanged() };
    volume.write({ 'rustlb.yaml': text('v4'), 'other.txt': 'changed again\n' });
    await waitFor(() => unchanged() > before.unchanged, 'the watcher to look at the swapped file and find it unchanged');
    assert.equal(reloads(lb).length, before.reloads);
    assert.equal(await served(port), 'v4');
  });
});
