// `npm start` for real: scripts/demo.mjs with its two upstreams and rustlb on the shipped
// config/rustlb.yaml, moved to free ports (RUSTLB_DEMO_CONFIG, RUSTLB_DEMO_UPSTREAMS) and
// run with one worker. The README's quick start holds (one connection, answers from the
// two upstreams in turn), and Ctrl-C, which the terminal sends to the whole foreground
// process group, drains and stops all of it with exit code 0.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { freePorts, get, RawConnection, ROOT, waitFor } from '@rustlb/testkit';
import { parse, stringify } from 'yaml';
import { alive } from './support/worker-fixture.js';

interface ShippedConfig {
  global: { metrics: { address: string } };
  frontends: { name: string; listen: string; protocol: string }[];
  backends: { name: string; servers: { address: string }[] }[];
}

let dir: string;
let demo: ChildProcess;
let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
let output = '';
let frontend: number;
let metrics: number;
let upstreamPorts: number[];

/** `upstream-N listening on ... (pid P)` lines, by name. */
function upstreamPids(): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of output.matchAll(/^(upstream-\d+) listening on 127\.0\.0\.1:\d+ \(pid (\d+)\)$/gm)) out.set(m[1] as string, Number(m[2]));
  return out;
}

/** rustlb's JSON log lines. */
function logs(): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Every process the demo started: the upstreams, rustlb's primary and its workers. */
function pids(): number[] {
  const all = new Set(upstreamPids().values());
  for (const l of logs()) {
    if (l.role === 'primary' && typeof l.pid === 'number') all.add(l.pid);
    if (typeof l.workerPid === 'number') all.add(l.workerPid);
  }
  return [...all];
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.setTimeout(2000, () => s.destroy());
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
    s.once('close', () => resolve(false));
  });
}

before(async () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  assert.equal(pkg.scripts.start, 'node scripts/demo.mjs', 'what `npm start` runs');

  // The shipped config is what the demo's defaults and the README assume…
  const config = parse(readFileSync(join(ROOT, 'config/rustlb.yaml'), 'utf8')) as ShippedConfig;
  assert.equal(config.frontends.length, 1);
  assert.equal(config.frontends[0]?.listen, '127.0.0.1:8080');
  assert.equal(config.frontends[0]?.protocol, 'http');
  assert.equal(config.global.metrics.address, '127.0.0.1:9090');
  assert.deepEqual(
    config.backends[0]?.servers.map((s) => s.address),
    ['127.0.0.1:9001', '127.0.0.1:9002'],
  );
  // …and only its ports change here.
  [frontend, metrics, ...upstreamPorts] = await freePorts(4);
  (config.frontends[0] as { listen: string }).listen = `127.0.0.1:${frontend}`;
  config.global.metrics.address = `127.0.0.1:${metrics}`;
  (config.backends[0] as { servers: { address: string }[] }).servers = upstreamPorts.map((p) => ({ address: `127.0.0.1:${p}` }));
  dir = mkdtempSync(join(tmpdir(), 'rustlb-demo-'));
  const file = join(dir, 'rustlb.yaml');
  writeFileSync(file, stringify(config));

  // detached: its own process group, like a job in a terminal, so Ctrl-C can be sent the way a terminal does.
  demo = spawn(process.execPath, [join(ROOT, 'scripts/demo.mjs'), '--workers', '1'], {
    cwd: ROOT,
    env: { ...process.env, RUSTLB_DEMO_CONFIG: file, RUSTLB_DEMO_UPSTREAMS: upstreamPorts.join(',') },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  for (const stream of [demo.stdout, demo.stderr]) {
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      output += chunk;
    });
  }
  exited = new Promise((resolve) => demo.once('exit', (code, signal) => resolve({ code, signal })));

  await waitFor(
    async () => {
      if (demo.exitCode !== null) throw new Error(`the demo exited with ${demo.exitCode}:\n${output}`);
      return upstreamPids().size === 2 && (await get(metrics, { path: '/readyz', timeoutMs: 2000 })).status === 200;
    },
    'both upstreams listening and rustlb ready',
    20_000,
    50,
  );
});

after(async () => {
  // Whatever a failure left behind, by pid: the demo's group, then each of its children.
  if (demo?.exitCode === null && demo.signalCode === null && demo.pid !== undefined) {
    try {
      process.kill(-demo.pid, 'SIGKILL');
    } catch {}
  }
  for (const pid of pids()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

test('one connection: the answers come from the two upstreams in turn', async () => {
  const conn = await RawConnection.open(frontend);
  const served: string[] = [];
  try {
    for (const path of ['/a', '/b', '/c', '/d']) {
      conn.write(`GET ${path} HTTP/1.1\r\nHost: localhost:${frontend}\r\n\r\n`);
      const res = await conn.read({ timeoutMs: 5000 });
      assert.equal(res.status, 200);
      const m = /^hello from (upstream-[12]) \(GET (\/\w)\)\n$/.exec(res.body.toString());
      assert.ok(m !== null, res.body.toString());
      assert.equal(m[2], path);
      assert.equal(res.headers['x-upstream'], m[1]);
      served.push(m[1] as string);
    }
  } finally {
    conn.destroy();
  }
  assert.equal(new Set(served).size, 2, served.join(' '));
  for (let i = 1; i < served.length; i++) assert.notEqual(served[i], served[i - 1], `not alternating: ${served.join(' ')}`);
});

test('Ctrl-C: rustlb drains, everything stops, exit code 0', async () => {
  const started = pids();
  // rustlb's primary, its one worker and the two upstreams.
  assert.equal(started.length, 4, output);
  // Twice at once, as `npm start` can deliver it: the terminal's SIGINT and npm's copy.
  process.kill(-(demo.pid as number), 'SIGINT');
  process.kill(-(demo.pid as number), 'SIGINT');
  const timer = setTimeout(() => process.kill(-(demo.pid as number), 'SIGKILL'), 30_000);
  const result = await exited;
  clearTimeout(timer);
  assert.deepEqual(result, { code: 0, signal: null }, output);

  const lines = logs();
  assert.ok(
    lines.some((l) => l.msg === 'shutting down: draining workers' && l.signal === 'SIGINT'),
    output,
  );
  assert.ok(
    lines.some((l) => l.msg === 'rustlb stopped'),
    output,
  );
  // The upstreams served until rustlb was done: they stopped after it (one stdout, in order).
  const rustlbStopped = output.indexOf('"msg":"rustlb stopped"');
  for (const name of ['upstream-1', 'upstream-2']) {
    const at = output.indexOf(`${name} stopped\n`);
    assert.ok(at > rustlbStopped, `${name} stopped before rustlb did:\n${output}`);
  }
  assert.deepEqual(
    lines.filter((l) => l.msg === 'forced exit' || l.level === 'error' || l.level === 'fatal'),
    [],
  );
  assert.deepEqual(
    started.filter((pid) => alive(pid)),
    [],
    'processes still running',
  );
  for (const port of [frontend, metrics, ...upstreamPorts]) assert.ok(await refused(port), `127.0.0.1:${port} still accepts connections`);
});
