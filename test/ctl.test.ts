import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  backend,
  controlExchange,
  freePort,
  freePorts,
  frontend,
  get,
  type HttpUpstream,
  httpCheck,
  lbConfig,
  RustlbProcess,
  runCtl,
  startDnsServer,
  startHttpUpstream,
  startRustlbAt,
  tcpFrontend,
  waitFor,
  webPool,
} from '@rustlb/testkit';
import { alive } from './support/worker-fixture.js';

// rustlb-ctl against a running daemon: every command, human and --json, the exit codes
// (0 ok, 1 refused, 2 usage, 3 not running), how the socket is found and protected, the
// runtime server states and their survival across reloads, and a control socket that
// shrugs off garbage.

let a: HttpUpstream;
let b: HttpUpstream;
let lb: RustlbProcess;
let port: number;

before(async () => {
  [a, b] = (await Promise.all([startHttpUpstream('a'), startHttpUpstream('b')])) as [HttpUpstream, HttpUpstream];
  port = await freePort();
  lb = await RustlbProcess.start({ config: config(), args: ['--no-watch'] });
});

after(async () => {
  await lb?.dispose();
  await Promise.all([a?.close(), b?.close()]);
});

function config(header = 'one', servers = [a.address, b.address]): Record<string, unknown> {
  return webPool(port, servers, {
    global: { access_log: false },
    frontend: { http: { response_headers: { 'X-Config': header } } },
    backend: { health_check: httpCheck({ interval: '200ms', timeout: '150ms' }) },
  });
}

async function served(n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push((await get(port)).text.trim());
  return out;
}

interface StatusJson {
  version: string;
  pid: number;
  uptimeSeconds: number;
  configFile: string;
  generation: number;
  ready: boolean;
  workers: { slot: number; pid: number; state: string; cpuPercent: number | null; rssBytes: number | null; activeConnections: number | null }[];
  frontends: { name: string; listen: string }[];
  backends: { name: string; servers: { server: string; healthy: boolean; state: string; weight: number }[] }[];
}

async function statusJson(): Promise<StatusJson> {
  const r = await lb.ctl(['status', '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as StatusJson;
}

const stateOf = (s: StatusJson, server: string) => s.backends[0]?.servers.find((v) => v.server === server)?.state;

describe('commands', () => {
  test('status: human and --json', async () => {
    const s = await statusJson();
    assert.equal(s.pid, lb.child.pid);
    assert.equal(s.configFile, lb.configFile);
    assert.equal(s.ready, true);
    assert.equal(s.workers.length, 2);
    for (const w of s.workers) {
      assert.equal(w.state, 'ready');
      assert.ok(typeof w.cpuPercent === 'number' && typeof w.rssBytes === 'number' && w.rssBytes > 0, JSON.stringify(w));
      assert.equal(typeof w.activeConnections, 'number');
    }
    assert.deepEqual(
      s.frontends.map((f) => [f.name, f.listen]),
      [['web', `127.0.0.1:${port}`]],
    );
    assert.deepEqual(
      s.backends[0]?.servers.map((v) => [v.server, v.state, v.weight]),
      [
        [`pool/${a.address}`, 'enabled', 1],
        [`pool/${b.address}`, 'enabled', 1],
      ],
    );
    const human = await lb.ctl(['status']);
    assert.equal(human.code, 0);
    assert.match(human.stdout, new RegExp(`^rustlb ${s.version.replace(/\./g, '\\.')}, pid ${s.pid}, up \\d+s, ready\\n`));
    assert.match(human.stdout, new RegExp(`config ${lb.configFile.replace(/[.]/g, '\\.')}, generation ${s.generation}`));
    for (const w of s.workers) assert.match(human.stdout, new RegExp(`\\n {2}${w.slot} +${w.pid} +ready `));
    assert.match(human.stdout, new RegExp(`web +http +127\\.0\\.0\\.1:${port} +-> pool +round_robin`));
    assert.match(human.stdout, new RegExp(`pool/${a.address.replace(/\./g, '\\.')} +UP +enabled +1 `));
  });

  test('status: per frontend connections and requests; per server requests, passive and active failures, last change and its reason', async () => {
    const up = await startHttpUpstream('counted');
    const [webPort, tcpPort, deadPort] = await freePorts(3);
    const counted = await RustlbProcess.start({
      config: lbConfig({
        global: { access_log: false },
        frontends: [frontend('site', webPort, 'pair'), tcpFrontend('raw', tcpPort, 'pair')],
        backends: [
          backend('pair', [up.address, `127.0.0.1:${deadPort}`], {
            // The first probe comes within a second of the start, the next an hour later.
            health_check: { type: 'tcp', interval: '1h', timeout: '150ms', unhealthy_threshold: 3 },
          }),
        ],
      }),
      args: ['--no-watch'],
    });
    try {
      // The dead server refuses: requests sent to it are retried on the live one (passive failures).
      for (let i = 0; i < 6; i++) assert.equal((await get(webPort)).status, 200);
      type Line = {
        server: string;
        healthy: boolean;
        requests: number;
        passiveFailures: number;
        activeFailures: number;
        lastChange: string;
        lastChangeReason: string | null;
        lastCheck: string | null;
      };
      type Front = { name: string; activeConnections: number; connections: number; requests: number | null };
      const read = async () => {
        const r = await counted.ctl(['status', '--json']);
        assert.equal(r.code, 0, r.stderr);
        return JSON.parse(r.stdout) as { frontends: Front[]; backends: { servers: Line[] }[] };
      };
      const dead = `pair/127.0.0.1:${deadPort}`;
      const s = await waitFor(
        async () => {
          const j = await read();
          const d = j.backends[0]?.servers.find((v) => v.server === dead);
          // The live server's first probe too (jittered within the first second): its "last check" column.
          const l = j.backends[0]?.servers.find((v) => v.server === `pair/${up.address}`);
          return d !== undefined && !d.healthy && d.activeFailures >= 1 && d.passiveFailures >= 1 && l?.lastCheck === 'ok' ? j : null;
        },
        'the dead server down, with its failed probe and its failed requests counted, and the live one probed',
        10_000,
      );
      const site = s.frontends.find((f) => f.name === 'site');
      assert.equal(site?.requests, 6);
      assert.ok((site?.connections ?? 0) >= 6, JSON.stringify(site));
      assert.equal(typeof site?.activeConnections, 'number');
      assert.equal(s.frontends.find((f) => f.name === 'raw')?.requests, null);
      const live = s.backends[0]?.servers.find((v) => v.server === `pair/${up.address}`);
      const d = s.backends[0]?.servers.find((v) => v.server === dead);
      assert.equal(live?.requests, 6);
      assert.equal(live?.passiveFailures, 0);
      assert.equal(live?.lastChangeReason, null);
      assert.match(d?.lastChangeReason ?? '', /refused/);
      assert.ok(Date.parse(d?.lastChange ?? '') > Date.parse(live?.lastChange ?? ''), JSON.stringify([d, live]));
      const human = await counted.ctl(['status']);
      assert.match(human.stdout, /frontend +protocol +listen +backend +algorithm +conns +accepted +requests/);
      assert.match(human.stdout, new RegExp(`site +http +127\\.0\\.0\\.1:${webPort} +-> pair +round_robin +\\d+ +\\d+ +6\\n`));
      assert.match(human.stdout, new RegExp(`raw +tcp +127\\.0\\.0\\.1:${tcpPort} +-> pair +round_robin +\\d+ +\\d+ +-\\n`));
      assert.match(human.stdout, /server +health +state +weight +in-flight +last check +requests +failures passive\/active +last change/);
      assert.match(human.stdout, new RegExp(`${dead.replace(/\./g, '\\.')} +DOWN +enabled +1 +0 +\\S+ +0 +\\d+/\\d+ +\\S+ \\(.*refused.*\\)`));
      assert.match(human.stdout, new RegExp(`pair/${up.address.replace(/\./g, '\\.')} +UP +enabled +1 +0 +ok +6 +0/0 +\\S+ \\(first seen\\)`));
    } finally {
      await counted.dispose();
      await up.close();
    }
  });

  test("status: requests in flight at each server of a round_robin backend, over every worker (not only least_connections')", async () => {
    // Both servers hold every request until released.
    const held = new Map<string, ServerResponse[]>([
      [a.address, []],
      [b.address, []],
    ]);
    a.handler = (_req: IncomingMessage, res: ServerResponse) => void held.get(a.address)?.push(res);
    b.handler = (_req: IncomingMessage, res: ServerResponse) => void held.get(b.address)?.push(res);
    const all = () => [...held.values()].flat();
    const release = () => {
      for (const list of held.values()) for (const res of list.splice(0)) res.end('done\n');
    };
    const replies = Array.from({ length: 4 }, () => get(port));
    try {
      await waitFor(() => all().length === 4, 'four requests held at the servers', 10_000);
      type InFlight = { backends: { servers: { server: string; activeRequests: number }[] }[] };
      const counts = async () => {
        const r = await lb.ctl(['status', '--json']);
        assert.equal(r.code, 0, r.stderr);
        return Object.fromEntries((JSON.parse(r.stdout) as InFlight).backends[0]?.servers.map((v) => [v.server, v.activeRequests]) ?? []);
      };
      const atA = held.get(a.address)?.length ?? 0;
      assert.deepEqual(await counts(), { [`pool/${a.address}`]: atA, [`pool/${b.address}`]: 4 - atA });
      const human = await lb.ctl(['status']);
      assert.match(human.stdout, new RegExp(`pool/${a.address.replace(/\./g, '\\.')} +UP +enabled +1 +${atA} `));
      release();
      assert.deepEqual(
        (await Promise.all(replies)).map((r) => r.status),
        [200, 200, 200, 200],
      );
      assert.deepEqual(await counts(), { [`pool/${a.address}`]: 0, [`pool/${b.address}`]: 0 });
    } finally {
      a.handler = null;
      b.handler = null;
      release();
      await Promise.allSettled(replies);
    }
  });

  test('validate FILE: valid, invalid, missing; no daemon needed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rustlb-ctl-validate-'));
    try {
      const good = join(dir, 'good.yaml');
      const bad = join(dir, 'bad.yaml');
      writeFileSync(good, JSON.stringify(config()));
      writeFileSync(bad, 'frontends:\n  - name: web\n    listen: "127.0.0.1:80"\n    backend: nowhere\nbackends: []\n');
      // A socket where nothing runs: validate never touches it.
      const r = await runCtl(['--socket', join(dir, 'none.sock'), 'validate', good]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /good\.yaml is valid\n/);
      const j = await runCtl(['validate', good, '--json']);
      assert.deepEqual(JSON.parse(j.stdout), { valid: true, errors: [], warnings: [] });
      const invalid = await runCtl(['validate', bad]);
      assert.equal(invalid.code, 1);
      assert.match(invalid.stderr, /bad\.yaml is invalid:\n {2}frontends\[0\]\.backend \(line 4\): .*nowhere/);
      const invalidJson = await runCtl(['validate', bad, '--json']);
      assert.equal(invalidJson.code, 1);
      assert.equal((JSON.parse(invalidJson.stdout) as { valid: boolean }).valid, false);
      const missing = await runCtl(['validate', join(dir, 'missing.yaml')]);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /missing\.yaml/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('drain, disable, enable: human and --json; unknown servers refused', async () => {
    const server = `pool/${b.address}`;
    const drained = await lb.ctl(['drain', server]);
    assert.equal(drained.code, 0, drained.stderr);
    assert.equal(drained.stdout, `${server} draining: no new requests or connections; existing ones finish; health checks go on\n`);
    assert.deepEqual(new Set(await served(6)), new Set(['a']));
    // Health checks go on while draining.
    const probes = b.healthChecks;
    await waitFor(() => b.healthChecks >= probes + 2, 'health checks of the drained server');

    const disabled = await lb.ctl(['disable', server, '--json']);
    assert.equal(disabled.code, 0, disabled.stderr);
    assert.deepEqual(JSON.parse(disabled.stdout), { server, state: 'disabled' });
    assert.equal(stateOf(await statusJson(), server), 'disabled');
    // Paused: while a is probed four more times, b is probed at most once more (one in progress).
    const paused = { a: a.healthChecks, b: b.healthChecks };
    await waitFor(() => a.healthChecks >= paused.a + 4, 'four more health checks of the other server');
    assert.ok(b.healthChecks <= paused.b + 1, `${b.healthChecks - paused.b} checks of a disabled server`);
    assert.deepEqual(new Set(await served(6)), new Set(['a']));

    const enabled = await lb.ctl(['enable', server]);
    assert.equal(enabled.code, 0, enabled.stderr);
    assert.match(enabled.stdout, /enabled: back in rotation/);
    assert.deepEqual(new Set(await served(6)), new Set(['a', 'b']));
    await waitFor(() => b.healthChecks > paused.b + 1, 'health checks to resume');

    const unknown = await lb.ctl(['drain', 'pool/10.9.9.9:1']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, new RegExp(`no server pool/10\\.9\\.9\\.9:1 \\(servers: pool/${a.address.replace(/\./g, '\\.')}, pool/`));
    const unknownJson = await lb.ctl(['drain', 'pool/10.9.9.9:1', '--json']);
    assert.equal(unknownJson.code, 1);
    assert.equal((JSON.parse(unknownJson.stdout) as { error: { code: string } }).error.code, 'RLB_ERR_CONTROL_REFUSED');
  });

  test('drain and disable survive reloads and show in status', async () => {
    const server = `pool/${a.address}`;
    const other = `pool/${b.address}`;
    assert.equal((await lb.ctl(['drain', server])).code, 0);
    assert.equal((await lb.ctl(['disable', other])).code, 0);
    assert.equal((await lb.ctl(['enable', other])).code, 0);
    lb.writeConfig(config('two'));
    const r = await lb.ctl(['reload']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await get(port)).headers['x-config'], 'two');
    const s = await statusJson();
    assert.equal(stateOf(s, server), 'drain');
    assert.equal(stateOf(s, other), 'enabled');
    assert.match((await lb.ctl(['status'])).stdout, new RegExp(`${server.replace(/\./g, '\\.')} +UP +drain `));
    assert.deepEqual(new Set(await served(6)), new Set(['b']));
    assert.equal((await lb.ctl(['enable', server])).code, 0);

    // Disabled (maintenance) is kept across a reload the same way.
    assert.equal((await lb.ctl(['disable', other])).code, 0);
    lb.writeConfig(config('two-b'));
    const again = await lb.ctl(['reload']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal((await get(port)).headers['x-config'], 'two-b');
    const after = await statusJson();
    assert.equal(stateOf(after, other), 'disabled');
    assert.equal(stateOf(after, server), 'enabled');
    assert.match((await lb.ctl(['status'])).stdout, new RegExp(`${other.replace(/\./g, '\\.')} +\\S+ +disabled `));
    const requestsOfB = b.count;
    assert.deepEqual(new Set(await served(6)), new Set(['a']));
    assert.equal(b.count, requestsOfB, 'no request reached the disabled server');
    assert.equal((await lb.ctl(['enable', other])).code, 0);
    assert.equal(stateOf(await statusJson(), other), 'enabled');
    assert.deepEqual(new Set(await served(6)), new Set(['a', 'b']));
  });

  test('a server removed by a reload forgets its state: added again, it comes back enabled', async () => {
    const server = `pool/${b.address}`;
    assert.equal((await lb.ctl(['drain', server])).code, 0);
    assert.deepEqual(new Set(await served(4)), new Set(['a']));
    lb.writeConfig(config('gone', [a.address]));
    const removed = await lb.ctl(['reload']);
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal(stateOf(await statusJson(), server), undefined, 'no longer a server');
    lb.writeConfig(config('back'));
    const added = await lb.ctl(['reload']);
    assert.equal(added.code, 0, added.stderr);
    assert.equal((await get(port)).headers['x-config'], 'back');
    assert.equal(stateOf(await statusJson(), server), 'enabled');
    const requestsOfB = b.count;
    assert.deepEqual(new Set(await served(6)), new Set(['a', 'b']));
    assert.ok(b.count > requestsOfB, 'the server added again takes requests');
  });

  test('reload: human output, accepted and rejected', async () => {
    lb.writeConfig(config('three'));
    const ok = await lb.ctl(['reload']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^reload accepted: generation \d+\n {2}frontend web changed\n {2}applied by workers 0, 1\n$/);
    writeFileSync(lb.configFile, 'global: {workers: -1}\n');
    const bad = await lb.ctl(['reload']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^reload rejected: .*\n {2}error: /);
    lb.writeConfig(config('three'));
  });
});

describe('exit codes, socket discovery and protection', () => {
  test('usage errors exit 2', async () => {
    for (const args of [[], ['bogus'], ['drain'], ['status', '--bogus'], ['drain', 'no-slash'], ['--socket']]) {
      const r = await runCtl(['--socket', lb.socket, ...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.ok(r.stderr.length > 0);
    }
    const help = await runCtl(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Exit codes: 0 ok; 1 refused or failed/);
  });

  test('nothing listening: "rustlb is not running at <socket>", exit 3', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rustlb-ctl-none-'));
    try {
      const socket = join(dir, 'nobody.sock');
      for (const command of ['status', 'reload', 'restart-workers']) {
        const r = await runCtl(['--socket', socket, command]);
        assert.equal(r.code, 3);
        assert.equal(r.stderr, `rustlb-ctl: rustlb is not running at ${socket}\n`);
      }
      const j = await runCtl(['--socket', socket, 'status', '--json']);
      assert.equal(j.code, 3);
      assert.equal((JSON.parse(j.stdout) as { error: { code: string } }).error.code, 'RLB_ERR_NOT_RUNNING');
      // A stale file that is not a live socket is "not running" too.
      writeFileSync(socket, '');
      assert.equal((await runCtl(['--socket', socket, 'status'])).code, 3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the control socket is mode 0600', () => {
    assert.equal(statSync(lb.socket).mode & 0o777, 0o600);
    assert.ok(statSync(lb.socket).isSocket());
  });

  test('-c FILE finds the socket from global.admin.socket; --socket overrides it', async () => {
    const r = await runCtl(['-c', lb.configFile, 'status', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as StatusJson).pid, lb.child.pid);
    const dir = mkdtempSync(join(tmpdir(), 'rustlb-ctl-other-'));
    try {
      const other = join(dir, 'other.yaml');
      writeFileSync(other, JSON.stringify({ global: { admin: { socket: join(dir, 'elsewhere.sock') } } }));
      assert.equal((await runCtl(['-c', other, 'status'])).code, 3);
      assert.equal((await runCtl(['-c', other, '--socket', lb.socket, 'status'])).code, 0);
      // A config file that cannot be read is a usage problem, not "not running".
      const missing = await runCtl(['-c', join(dir, 'missing.yaml'), 'status']);
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /cannot read .*missing\.yaml/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the socket across runs', () => {
  let dir: string;
  let file: string;
  let metricsPort: number;
  let lbPort: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rustlb-ctl-runs-'));
    file = join(dir, 'rustlb.yaml');
    metricsPort = await freePort();
    lbPort = await freePort();
    // No admin.socket: the default, derived from the config file's path.
    writeFileSync(file, JSON.stringify(webPool(lbPort, [a.address], { global: { metrics: { address: `127.0.0.1:${metricsPort}` } } })));
  });

  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test('default socket found by -c; a stale socket of a crashed run is replaced; a live one is not stolen', async () => {
    const first = await startRustlbAt({ configFile: file, dir, metricsPort, socket: '' });
    let second: RustlbProcess | null = null;
    try {
      const socket = (await first.waitForLog((l) => l.msg === 'rustlb started', 'the start line')).controlSocket as string;
      assert.ok(!socket.startsWith(dir), 'the default socket is not beside the config file');
      const viaConfig = await runCtl(['-c', file, 'status', '--json']);
      assert.equal(viaConfig.code, 0, viaConfig.stderr);
      assert.equal((JSON.parse(viaConfig.stdout) as StatusJson).pid, first.child.pid);

      // A second daemon on the same socket refuses to start rather than take it over.
      const clashFile = join(dir, 'clash.yaml');
      writeFileSync(
        clashFile,
        JSON.stringify(webPool(await freePort(), [a.address], { global: { metrics: { address: `127.0.0.1:${await freePort()}` }, admin: { socket } } })),
      );
      const clash = await startRustlbAt({ configFile: clashFile, dir, metricsPort: 0, socket, waitReady: false, args: ['--no-watch'] });
      const clashExit = await clash.exited;
      assert.equal(clashExit.code, 1);
      assert.match(clash.stderr, new RegExp(`another rustlb is already running with control socket ${socket.replace(/[.]/g, '\\.')}`));
      assert.equal((await runCtl(['-c', file, 'status'])).code, 0, 'the first one is unharmed');

      // Crash the first one: its socket file stays behind.
      const workers = first.workerPids();
      first.child.kill('SIGKILL');
      await first.exited;
      assert.ok(statSync(socket).isSocket(), 'the stale socket file is left by the crash');
      assert.equal((await runCtl(['-c', file, 'status'])).code, 3);
      await waitFor(() => workers.every((pid) => !alive(pid)), 'the orphaned workers to exit', 10_000);

      // A regular file where the socket should be is not deleted: refused, and the file kept.
      const inTheWay = join(dir, 'not-a-socket');
      writeFileSync(inTheWay, 'precious\n');
      const wrongFile = join(dir, 'wrong.yaml');
      writeFileSync(
        wrongFile,
        JSON.stringify(
          webPool(await freePort(), [a.address], { global: { metrics: { address: `127.0.0.1:${await freePort()}` }, admin: { socket: inTheWay } } }),
        ),
      );
      const refused = await startRustlbAt({ configFile: wrongFile, dir, metricsPort: 0, socket: inTheWay, waitReady: false, args: ['--no-watch'] });
      assert.equal((await refused.exited).code, 1);
      assert.match(refused.stderr, /a file that is not a socket is in the way/);
      assert.equal(readFileSync(inTheWay, 'utf8'), 'precious\n');

      second = await startRustlbAt({ configFile: file, dir, metricsPort, socket });
      const r = await runCtl(['-c', file, 'status', '--json']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal((JSON.parse(r.stdout) as StatusJson).pid, second.child.pid);
      assert.equal(statSync(socket).mode & 0o777, 0o600);
    } finally {
      await first.stop('SIGKILL');
      await second?.stop('SIGTERM');
    }
  });
});

describe('malformed requests on the control socket', () => {
  test('each gets a clear error answer and the daemon is unharmed', async () => {
    const workers = (await statusJson()).workers.map((w) => w.pid);
    const cases: [string, string | Buffer, RegExp][] = [
      ['garbage', Buffer.from([0xff, 0x00, 0xfe, 0x0a]), /one JSON object per line/],
      ['not JSON', 'hello daemon\n', /one JSON object per line/],
      ['a JSON array', '[1,2,3]\n', /a request is a JSON object/],
      ['a JSON string', '"status"\n', /a request is a JSON object/],
      ['unknown command', '{"id":7,"command":"self-destruct"}\n', /unknown command "self-destruct" \(known: reload, status, /],
      ['no command', '{"id":8}\n', /a request names a command \(known: reload, /],
      ['a server that is not a string', '{"id":10,"command":"drain","server":7}\n', /"server" is a string/],
      ['drain without a server', '{"id":9,"command":"drain"}\n', /a server is named BACKEND\/ADDRESS/],
      ['a huge line', `{"command":"status","pad":"${'x'.repeat(200_000)}`, /request too long/],
    ];
    for (const [what, bytes, message] of cases) {
      const { line } = await controlExchange(lb.socket, bytes);
      const answer = JSON.parse(line) as { ok: boolean; error?: { code: string; message: string } };
      assert.equal(answer.ok, false, what);
      assert.equal(answer.error?.code, 'RLB_ERR_CONTROL_REQUEST', what);
      assert.match(answer.error?.message ?? '', message, what);
    }
    // A client that connects and leaves without a word, or mid-line.
    await controlExchange(lb.socket, '', 300).catch(() => null);
    await controlExchange(lb.socket, '{"command":"sta', 300).catch(() => null);
    // Still answering, same workers, same traffic.
    const s = await statusJson();
    assert.deepEqual(
      s.workers.map((w) => w.pid),
      workers,
    );
    const ready = await lb.readyz();
    assert.equal(ready.status, 200, JSON.stringify(ready.body));
    assert.equal((await get(port)).status, 200);
    // Several requests on one connection are each answered, with their ids.
    const both = await controlExchange(lb.socket, '{"id":1,"command":"status"}\n', 5000);
    assert.equal((JSON.parse(both.line) as { id: number; ok: boolean }).id, 1);
  });
});

describe('runtime state of addresses found by DNS', () => {
  test('kept while the host name stays configured, even while DNS leaves the address out; forgotten with the name', async () => {
    const NAME = 'a.rustlb.test';
    const dns = await startDnsServer();
    dns.set(NAME, ['127.0.0.1']);
    const dnsPort = await freePort();
    const withName = (named: boolean): Record<string, unknown> =>
      webPool(dnsPort, [...(named ? [`${NAME}:${a.port}`] : []), b.address], {
        global: { access_log: false, resolvers: [dns.address] },
        backend: { resolve_interval: '200ms' },
      });
    const d = await RustlbProcess.start({ config: withName(true), args: ['--no-watch'] });
    try {
      const server = `pool/127.0.0.1:${a.port}`;
      const stateHere = async (): Promise<string | undefined> => {
        const r = await d.ctl(['status', '--json']);
        assert.equal(r.code, 0, r.stderr);
        return stateOf(JSON.parse(r.stdout) as StatusJson, server);
      };
      const answers = async (n: number): Promise<Set<string>> => {
        const out = new Set<string>();
        for (let i = 0; i < n; i++) out.add((await get(dnsPort)).text.trim());
        return out;
      };
      assert.equal(await stateHere(), 'enabled');
      assert.equal((await d.ctl(['drain', server])).code, 0);

      // The address drops out of the answers, then comes back: still drained.
      dns.set(NAME, []);
      await waitFor(async () => (await stateHere()) === undefined, 'the address to leave with the DNS answer');
      dns.set(NAME, ['127.0.0.1']);
      await waitFor(async () => (await stateHere()) !== undefined, 'the address to come back with the DNS answer');
      assert.equal(await stateHere(), 'drain');
      assert.deepEqual(await answers(6), new Set(['b']));

      // The name leaves the configuration, then is added again: its address comes back enabled.
      d.writeConfig(withName(false));
      const removed = await d.ctl(['reload']);
      assert.equal(removed.code, 0, removed.stderr);
      assert.equal(await stateHere(), undefined);
      d.writeConfig(withName(true));
      const added = await d.ctl(['reload']);
      assert.equal(added.code, 0, added.stderr);
      await waitFor(async () => (await stateHere()) !== undefined, 'the name to be resolved again');
      assert.equal(await stateHere(), 'enabled');
      assert.deepEqual(await answers(6), new Set(['a', 'b']));
    } finally {
      await d.dispose();
      await dns.close();
    }
  });
});
