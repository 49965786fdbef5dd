// The npm package: `npm pack` gives a tarball that `npm install -g` (offline, empty cache)
// turns into working `rustlb` and `rustlb-ctl` commands. The workspace packages are
// private: they travel inside the tarball (bundleDependencies), with every third-party
// dependency at its lockfile version.
//
// The container image installs this same tarball the same way, so the last test runs the
// image's command (Dockerfile ENTRYPOINT + CMD, as its USER, with its ENV and its
// HEALTHCHECK) against this install: one pack and install serve both.
import assert from 'node:assert/strict';
import { chownSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { freePort, get, type HttpUpstream, ROOT, startHttpUpstream, waitFor } from '@rustlb/testkit';
import { envOf, execForm, instructions, readDockerfile, type Stage } from './deploy-helper.js';
import { type Installed, packAndInstall, run, testEnv } from './pack-helper.js';

interface Manifest {
  version: string;
  bin: Record<string, string>;
  engines: { node: string };
  files: string[];
  bundleDependencies: boolean | string[];
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}

const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Manifest;
const workspacePackages = Object.keys(manifest.dependencies).filter((n) => n.startsWith('@rustlb/'));
let installed: Installed;

before(async () => {
  installed = await packAndInstall();
});

after(() => installed?.remove());

test('the manifest bundles every runtime dependency and names the supported Node versions', () => {
  assert.equal(manifest.bundleDependencies, true, 'bundleDependencies: true (the @rustlb/* packages are private; everything travels in the tarball)');
  assert.equal(manifest.engines.node, '>=20.19.0');
  const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
  assert.ok(major > 20 || (major === 20 && minor >= 19), `this Node (${process.version}) is one engines allows`);
  assert.deepEqual(Object.keys(manifest.bin).sort(), ['rustlb', 'rustlb-ctl']);
  // Every workspace package the CLIs need at run time is a dependency of the root.
  for (const dir of ['balancer', 'config', 'core', 'ctl', 'health', 'proxy', 'rustlb', 'supervisor', 'telemetry', 'worker']) {
    assert.ok(workspacePackages.includes(`@rustlb/${dir}`), `@rustlb/${dir} in dependencies`);
  }
  assert.ok(!workspacePackages.includes('@rustlb/testkit'), 'testkit is a dev dependency only');
});

test('the tarball holds the commands, the examples, the docs, the deploy files and every dependency', () => {
  const paths = new Set(installed.files.map((f) => f.path));
  for (const p of ['package.json', 'README.md', 'bin/rustlb', 'bin/rustlb-ctl', 'config/rustlb.yaml', 'config/examples/simple.yaml', 'docs/configuration.md']) {
    assert.ok(paths.has(p), `${p} is packed`);
  }
  assert.ok(paths.has('deploy/systemd/rustlb.service') && paths.has('deploy/kubernetes/deployment.yaml'), 'deploy/ is packed');
  assert.ok(paths.has('node_modules/@rustlb/config/schema/rustlb.schema.json'), 'the JSON Schema is packed');
  for (const asset of ['status.html', 'status.js', 'status.css']) {
    assert.ok(paths.has(`node_modules/@rustlb/supervisor/assets/${asset}`), `the status page's ${asset} is packed`);
  }
  assert.ok(paths.has('node_modules/uplot/dist/uPlot.iife.min.js'), "uPlot's browser build is packed (the status page loads nothing from a CDN)");
  for (const name of workspacePackages) {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { main: string };
    assert.ok(paths.has(`node_modules/${name}/package.json`), `${name}/package.json is packed`);
    assert.ok(paths.has(join('node_modules', name, pkg.main.replace(/^\.\//, ''))), `${name} ${pkg.main} is packed`);
  }
  for (const name of Object.keys(manifest.dependencies)) assert.ok(installed.bundled.includes(name), `${name} is bundled`);
  // Nothing of the development tree: tests, test helpers, build info, dev dependencies.
  for (const p of paths) {
    assert.ok(!/(^|\/)dist\/test\//.test(p), `no compiled tests: ${p}`);
    assert.ok(!p.endsWith('.tsbuildinfo') || (p.startsWith('node_modules/') && !p.startsWith('node_modules/@rustlb/')), `no build info: ${p}`);
    assert.ok(!p.startsWith('node_modules/@rustlb/testkit/'), `no testkit: ${p}`);
    assert.ok(!p.startsWith('test/') && !p.startsWith('packages/') && !p.startsWith('scripts/'), `no repository internals: ${p}`);
  }
  for (const dev of Object.keys(manifest.devDependencies)) {
    if (dev.startsWith('@types/') || dev.startsWith('@rustlb/')) continue;
    assert.ok(!installed.bundled.includes(dev), `dev dependency ${dev} is not bundled`);
  }
});

test('rustlb --version prints the package version', async () => {
  const r = await run(installed.bin('rustlb'), ['--version'], { cwd: installed.dir });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), manifest.version);
});

test('rustlb --validate accepts every shipped example, from the installed package', async () => {
  for (const file of ['config/rustlb.yaml', 'config/examples/simple.yaml', 'config/examples/full-featured.yaml']) {
    const r = await run(installed.bin('rustlb'), ['--validate', '-c', join(installed.packageDir, file)], { cwd: installed.dir });
    assert.equal(r.code, 0, `${file}: ${r.stderr}`);
    assert.match(r.stdout, /is valid/);
  }
  const bad = join(installed.dir, 'bad.yaml');
  writeFileSync(bad, 'frontends:\n  - name: web\n    listen: "127.0.0.1:1"\n    backend: nowhere\nbackends: []\n');
  const r = await run(installed.bin('rustlb'), ['--validate', '-c', bad], { cwd: installed.dir });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /frontends\[0\]\.backend/);
});

test('rustlb-ctl --help lists every command; validate works without a daemon', async () => {
  const help = await run(installed.bin('rustlb-ctl'), ['--help'], { cwd: installed.dir });
  assert.equal(help.code, 0, help.stderr);
  for (const cmd of ['reload', 'status', 'validate', 'drain', 'enable', 'disable', 'restart-workers'])
    assert.match(help.stdout, new RegExp(`rustlb-ctl ${cmd}`));
  const v = await run(installed.bin('rustlb-ctl'), ['validate', join(installed.packageDir, 'config/examples/tcp-proxy.yaml')], { cwd: installed.dir });
  assert.equal(v.code, 0, v.stderr);
  const none = await run(installed.bin('rustlb-ctl'), ['--socket', join(installed.dir, 'none.sock'), 'status'], { cwd: installed.dir });
  assert.equal(none.code, 3);
});

test('the installed rustlb runs: workers start, traffic flows, rustlb-ctl answers, SIGTERM exits 0', async () => {
  const [port, metrics] = [await freePort(), await freePort()];
  const upstream: HttpUpstream = await startHttpUpstream('installed-upstream');
  const socket = join(installed.dir, 'rustlb.sock');
  const config = join(installed.dir, 'run.yaml');
  writeFileSync(
    config,
    [
      'global:',
      `  metrics: { address: "127.0.0.1:${metrics}" }`,
      `  admin: { socket: "${socket}" }`,
      '  workers: 1',
      'frontends:',
      `  - { name: web, listen: "127.0.0.1:${port}", protocol: http, backend: app }`,
      'backends:',
      `  - { name: app, servers: [{ address: "${upstream.address}" }] }`,
      '',
    ].join('\n'),
  );
  const { spawn } = await import('node:child_process');
  const child = spawn(installed.bin('rustlb'), ['--config', config], { cwd: installed.dir, env: testEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => {
    stderr += c;
  });
  child.stdout.resume();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`rustlb exited ${child.exitCode}: ${stderr}`);
        return (await get(metrics, { path: '/readyz', timeoutMs: 1000 })).status === 200;
      },
      'the installed rustlb to be ready',
      30_000,
      100,
    );
    const r = await get(port);
    assert.equal(r.status, 200);
    assert.equal(r.text.trim(), 'installed-upstream');
    const status = await run(installed.bin('rustlb-ctl'), ['--socket', socket, '--json', 'status'], { cwd: installed.dir });
    assert.equal(status.code, 0, status.stderr);
    assert.equal((JSON.parse(status.stdout) as { version: string }).version, manifest.version);
    // The status page works from the installed package: its own files and the bundled uPlot.
    for (const path of ['/status', '/status/status.js', '/status/status.css', '/status/uplot.js', '/status/uplot.css', '/status.json']) {
      assert.equal((await get(metrics, { path, timeoutMs: 5000 })).status, 200, path);
    }
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
  } finally {
    child.kill('SIGKILL');
    await upstream.close();
  }
});

test("the container's command runs as the image's non-root user: ready, healthy, stops on its STOPSIGNAL", async () => {
  const stages = readDockerfile();
  const runtime = stages.at(-1) as Stage;
  const [user] = instructions(runtime, 'USER');
  assert.match(user ?? '', /^\d+(:\d+)?$/, 'USER is numeric (Kubernetes runAsNonRoot can verify it)');
  const [uid, gid] = (user as string).split(':').map(Number) as [number, number | undefined];
  assert.notEqual(uid, 0);
  const entrypoint = execForm(instructions(runtime, 'ENTRYPOINT')[0] ?? '');
  const cmd = execForm(instructions(runtime, 'CMD')[0] ?? '');
  const healthcheck = execForm(instructions(runtime, 'HEALTHCHECK')[0] ?? '');
  const [stopSignal] = instructions(runtime, 'STOPSIGNAL');
  const env = envOf(runtime);
  // PID 1 is tini (a Debian package of the image, not on this machine): what it runs is
  // what follows its `--`.
  assert.equal(entrypoint[0], '/usr/bin/tini');
  const command = [...entrypoint.slice(entrypoint.indexOf('--') + 1), ...cmd];
  assert.equal(command[0], 'rustlb');
  const configIndex = command.indexOf('--config') + 1;
  assert.equal(command[configIndex], '/etc/rustlb/config.yaml');
  assert.ok(
    instructions(runtime, 'COPY').includes('deploy/docker/config.yaml /etc/rustlb/config.yaml'),
    'the image ships deploy/docker/config.yaml as /etc/rustlb/config.yaml',
  );

  // As root here, become the image's uid/gid (no passwd entry needed, as in the image's
  // numeric USER); as anyone else, that user is already not root.
  const asRoot = process.getuid?.() === 0;
  const become = asRoot ? ['setpriv', `--reuid=${uid}`, `--regid=${gid ?? uid}`, '--clear-groups', '--'] : [];
  const path = `${join(installed.prefix, 'bin')}:${testEnv().PATH}`;
  const imageEnv = { ...testEnv(), ...env, PATH: path, HOME: '/nonexistent' };
  const shipped = join(installed.dir, 'docker-config.yaml');
  writeFileSync(shipped, readFileSync(join(ROOT, 'deploy/docker/config.yaml')), { mode: 0o644 });
  const validate = await run(become[0] ?? 'rustlb', [...become.slice(1), ...(asRoot ? ['rustlb'] : []), '--validate', '--config', shipped], {
    cwd: installed.dir,
    env: imageEnv,
  });
  assert.equal(validate.code, 0, `the image's config validates as the image's user: ${validate.stderr}`);

  // A real start: the shipped config with loopback ports, the socket directory the image
  // creates for its user, and a local upstream in place of the `app` service.
  const { parse, stringify } = await import('yaml');
  const config = parse(readFileSync(shipped, 'utf8')) as {
    global: { metrics: { address: string }; admin: { socket: string } };
    frontends: { listen: string }[];
    backends: { servers: { address: string }[] }[];
  };
  const [port, metrics] = [await freePort(), await freePort()];
  const upstream = await startHttpUpstream('container-upstream');
  const runDir = join(installed.dir, 'run-rustlb');
  mkdirSync(runDir, { mode: 0o750 });
  if (asRoot) chownSync(runDir, uid, gid ?? uid);
  config.global.metrics.address = `127.0.0.1:${metrics}`;
  config.global.admin.socket = join(runDir, 'rustlb.sock');
  (config.frontends[0] as { listen: string }).listen = `127.0.0.1:${port}`;
  (config.backends[0] as { servers: { address: string }[] }).servers = [{ address: upstream.address }];
  const testConfig = join(installed.dir, 'container.yaml');
  writeFileSync(testConfig, stringify(config), { mode: 0o644 });
  command[configIndex] = testConfig;

  const { spawn } = await import('node:child_process');
  const argv = [...become, ...command];
  const child = spawn(argv[0] as string, argv.slice(1), { cwd: '/', env: imageEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => {
    stderr += c;
  });
  child.stdout.resume();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const healthEnv = { ...imageEnv, RUSTLB_HEALTH_URL: `http://127.0.0.1:${metrics}/livez` };
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`rustlb exited ${child.exitCode}: ${stderr}`);
        return (await get(metrics, { path: '/readyz', timeoutMs: 1000 })).status === 200;
      },
      'the container command to be ready',
      30_000,
      100,
    );
    assert.equal((await get(port)).text.trim(), 'container-upstream');
    const hc = await run(process.execPath, healthcheck.slice(1), { cwd: '/', env: healthEnv });
    assert.equal(healthcheck[0], 'node');
    assert.equal(hc.code, 0, `HEALTHCHECK passes while rustlb is up: ${hc.stderr}`);
    const status = await run('rustlb-ctl', ['--socket', config.global.admin.socket, '--json', 'status'], { cwd: '/', env: imageEnv });
    assert.equal(status.code, 0, status.stderr);
    const primary = (JSON.parse(status.stdout) as { pid: number }).pid;
    const uidLine = readFileSync(`/proc/${primary}/status`, 'utf8').match(/^Uid:\s+(\d+)/m)?.[1];
    assert.equal(Number(uidLine), asRoot ? uid : process.getuid?.(), 'the primary runs as the image user');
    assert.notEqual(Number(uidLine), 0);
    child.kill((stopSignal ?? 'SIGTERM') as NodeJS.Signals);
    assert.equal(await exited, 0, `exit 0 on ${stopSignal}: ${stderr}`);
    const down = await run(process.execPath, healthcheck.slice(1), { cwd: '/', env: healthEnv });
    assert.notEqual(down.code, 0, 'HEALTHCHECK fails once rustlb is gone');
  } finally {
    child.kill('SIGKILL');
    await upstream.close();
  }
});
