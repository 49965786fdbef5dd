// The deployment files agree with the configuration they ship with: Kubernetes probes
// and ports, grace period against shutdown_delay + shutdown_timeout, workers against the
// CPU limit; the systemd unit's stop timeout, socket directory and privileges; the
// Dockerfile's shape. Every shipped config passes `rustlb --validate`. (The container's
// command is run for real in test/package.test.ts, against the installed tarball.)
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ROOT, runRustlb } from '@rustlb/testkit';
import { parse } from 'yaml';
import { durationSeconds, execForm, instructions, type Manifest, readDockerfile, readManifests, readUnit, timeSpanSeconds } from './deploy-helper.js';

interface Config {
  global: {
    workers?: number | 'auto';
    metrics?: { enabled?: boolean; address?: string; path?: string };
    admin?: { socket?: string };
    shutdown_delay?: string;
    shutdown_timeout?: string;
  };
  frontends: { name: string; listen: string; protocol?: string }[];
  backends: { name: string; servers: { address: string }[]; resolve_interval?: string }[];
}

const tmp = mkdtempSync(join(tmpdir(), 'rustlb-deploy-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** `rustlb --validate` on a config text: exit 0 and no warning. */
async function assertValid(text: string, name: string): Promise<void> {
  const file = join(tmp, name);
  writeFileSync(file, text);
  const r = await runRustlb(['--validate', '--config', file]);
  assert.equal(r.code, 0, `${name} is valid: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /warning/, `${name} validates without warnings`);
}

const portOf = (hostPort: string) => Number(hostPort.slice(hostPort.lastIndexOf(':') + 1));
const hostOf = (hostPort: string) => hostPort.slice(0, hostPort.lastIndexOf(':')).replace(/^\[|\]$/g, '');
const delayPlusTimeout = (c: Config) => durationSeconds(c.global.shutdown_delay ?? '0s') + durationSeconds(c.global.shutdown_timeout ?? '30s');

describe('Kubernetes manifests (deploy/kubernetes)', () => {
  const dir = join(ROOT, 'deploy/kubernetes');
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
  const all: (Manifest & { file: string })[] = [];
  for (const f of files) for (const m of readManifests(join(dir, f))) all.push({ ...m, file: f });
  const resources = all.filter((m) => m.kind !== 'Kustomization');
  const find = <T = Record<string, unknown>>(kind: string, name: string) => {
    const m = resources.find((r) => r.kind === kind && r.metadata.name === name);
    assert.ok(m !== undefined, `a ${kind} named ${name}`);
    return m as unknown as T & Manifest;
  };

  type Probe = { httpGet: { path: string; port: string | number } };
  type Container = {
    name: string;
    args: string[];
    ports: { name: string; containerPort: number }[];
    resources: { requests: Record<string, string>; limits: Record<string, string> };
    livenessProbe: Probe;
    readinessProbe: Probe;
    startupProbe: Probe;
    securityContext: { allowPrivilegeEscalation: boolean; readOnlyRootFilesystem: boolean; capabilities: { drop: string[] } };
    volumeMounts: { name: string; mountPath: string; subPath?: string; readOnly?: boolean }[];
  };
  type PodSpec = {
    terminationGracePeriodSeconds: number;
    securityContext: { runAsNonRoot: boolean; runAsUser: number };
    containers: Container[];
    volumes: { name: string; configMap?: { name: string }; emptyDir?: object }[];
  };
  type Deployment = { spec: { selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> }; spec: PodSpec } } };

  const deployment = find<Deployment>('Deployment', 'rustlb');
  const pod = deployment.spec.template.spec;
  const container = pod.containers.find((c) => c.name === 'rustlb') as Container;
  const configPath = container.args[container.args.indexOf('--config') + 1] as string;
  const configVolume = pod.volumes.find((v) => v.configMap !== undefined) as { name: string; configMap: { name: string } };
  const configMap = find<{ data: Record<string, string> }>('ConfigMap', configVolume.configMap.name);
  const configText = configMap.data[configPath.slice(configPath.lastIndexOf('/') + 1)] as string;
  const config = parse(configText) as Config;
  const containerPort = (port: string | number) => (typeof port === 'number' ? port : container.ports.find((p) => p.name === port)?.containerPort);
  const labelsMatch = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);

  test('every file parses to resources with apiVersion, kind and a name, and kustomization.yaml lists them all', () => {
    assert.ok(resources.length >= 6);
    for (const m of all) {
      assert.ok(typeof m.apiVersion === 'string' && typeof m.kind === 'string', `${m.file}: apiVersion and kind`);
      if (m.kind !== 'Kustomization') assert.ok(typeof m.metadata?.name === 'string', `${m.file}: metadata.name`);
    }
    const kustomization = all.find((m) => m.kind === 'Kustomization') as unknown as { resources: string[] };
    assert.deepEqual([...kustomization.resources].sort(), files.filter((f) => f !== 'kustomization.yaml').sort());
  });

  test('the ConfigMap holds the config the Deployment mounts as a directory (so edits reload), and it is valid', async () => {
    assert.equal(configPath, '/etc/rustlb/config.yaml');
    const mount = container.volumeMounts.find((v) => v.name === configVolume.name);
    assert.equal(mount?.mountPath, dirname(configPath));
    assert.equal(mount?.subPath, undefined, 'no subPath: a subPath mount never sees ConfigMap updates');
    await assertValid(configText, 'k8s-config.yaml');
  });

  test('probes ask /livez, /readyz on the metrics server, which listens beyond loopback', () => {
    const metrics = config.global.metrics?.address as string;
    assert.ok(metrics !== undefined, 'metrics.address is set');
    assert.ok(!['127.0.0.1', 'localhost', '::1'].includes(hostOf(metrics)), `the kubelet can reach ${metrics}`);
    assert.notEqual(config.global.metrics?.enabled, false);
    assert.equal(container.livenessProbe.httpGet.path, '/livez');
    assert.equal(container.readinessProbe.httpGet.path, '/readyz');
    assert.ok(['/readyz', '/livez'].includes(container.startupProbe.httpGet.path));
    for (const probe of [container.livenessProbe, container.readinessProbe, container.startupProbe]) {
      assert.equal(containerPort(probe.httpGet.port), portOf(metrics), `probe port ${probe.httpGet.port} is the metrics port`);
    }
    const annotations = (deployment.spec.template.metadata as { annotations?: Record<string, string> }).annotations ?? {};
    assert.equal(Number(annotations['prometheus.io/port']), portOf(metrics));
    assert.equal(annotations['prometheus.io/path'], config.global.metrics?.path ?? '/metrics');
  });

  test('every frontend port is a container port, and the Service sends traffic to one', () => {
    for (const f of config.frontends) {
      assert.ok(
        container.ports.some((p) => p.containerPort === portOf(f.listen)),
        `frontend ${f.name} (${f.listen}) is a container port`,
      );
    }
    const service = find<{ spec: { selector: Record<string, string>; ports: { targetPort: string | number }[] } }>('Service', 'rustlb');
    assert.ok(labelsMatch(service.spec.selector, deployment.spec.template.metadata.labels));
    for (const p of service.spec.ports) {
      const target = containerPort(p.targetPort);
      assert.ok(
        config.frontends.some((f) => portOf(f.listen) === target),
        `Service port → frontend port ${target}`,
      );
    }
  });

  test('terminationGracePeriodSeconds >= shutdown_delay + shutdown_timeout + 5s, with a 5-10s shutdown_delay', () => {
    const delay = durationSeconds(config.global.shutdown_delay ?? '0s');
    assert.ok(delay >= 5 && delay <= 10, `shutdown_delay ${delay}s lets endpoint removal catch up`);
    assert.ok(
      pod.terminationGracePeriodSeconds >= delayPlusTimeout(config) + 5,
      `grace ${pod.terminationGracePeriodSeconds}s >= ${delayPlusTimeout(config)}s + 5s`,
    );
  });

  test('workers match the CPU limit; requests and limits are set', () => {
    const { requests, limits } = container.resources;
    for (const r of ['cpu', 'memory']) {
      assert.ok(requests[r] !== undefined, `requests.${r}`);
      assert.ok(limits[r] !== undefined, `limits.${r}`);
    }
    const cpu = limits.cpu as string;
    const cores = cpu.endsWith('m') ? Number(cpu.slice(0, -1)) / 1000 : Number(cpu);
    assert.equal(config.global.workers, Math.max(1, Math.ceil(cores)), `workers ${config.global.workers} for a CPU limit of ${cpu}`);
  });

  test('the pod runs as non-root on a read-only root filesystem; the control socket has a writable volume', () => {
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.notEqual(pod.securityContext.runAsUser, 0);
    assert.equal(container.securityContext.allowPrivilegeEscalation, false);
    assert.equal(container.securityContext.readOnlyRootFilesystem, true);
    assert.deepEqual(container.securityContext.capabilities.drop, ['ALL']);
    const socketDir = dirname(config.global.admin?.socket as string);
    const mount = container.volumeMounts.find((v) => v.mountPath === socketDir);
    assert.ok(mount !== undefined && mount.readOnly !== true, `${socketDir} is a writable mount`);
    assert.ok(pod.volumes.find((v) => v.name === mount.name)?.emptyDir !== undefined);
  });

  test('the PodDisruptionBudget covers the rustlb pods', () => {
    const pdb = find<{ spec: { selector: { matchLabels: Record<string, string> }; maxUnavailable?: number; minAvailable?: number } }>(
      'PodDisruptionBudget',
      'rustlb',
    );
    assert.ok(labelsMatch(pdb.spec.selector.matchLabels, deployment.spec.template.metadata.labels));
    assert.ok(pdb.spec.maxUnavailable !== undefined || pdb.spec.minAvailable !== undefined);
  });

  test('the example backend is a headless Service rustlb resolves by DNS, re-resolved every resolve_interval', () => {
    const service = find<{ spec: { clusterIP: string; selector: Record<string, string>; ports: { port: number }[] } }>('Service', 'web-backend');
    assert.equal(service.spec.clusterIP, 'None', 'headless: DNS answers one address per ready pod');
    const backend = find<Deployment>('Deployment', 'web-backend');
    assert.ok(labelsMatch(service.spec.selector, backend.spec.template.metadata.labels));
    const server = config.backends.flatMap((b) => b.servers.map((s) => ({ b, s }))).find(({ s }) => s.address.startsWith('web-backend.'));
    assert.ok(server !== undefined, 'a server address names the headless Service');
    assert.match(server.s.address, /^web-backend\.[a-z0-9-]+\.svc\.cluster\.local:\d+$/);
    assert.equal(portOf(server.s.address), service.spec.ports[0]?.port);
    assert.ok(server.b.resolve_interval !== undefined && durationSeconds(server.b.resolve_interval) <= 30);
  });
});

describe('systemd unit (deploy/systemd)', () => {
  const unit = readUnit(join(ROOT, 'deploy/systemd/rustlb.service'));
  const service = unit.Service ?? {};
  const one = (key: string) => {
    const v = service[key];
    assert.ok(v !== undefined && v.length === 1, `[Service] ${key}= once`);
    return v[0] as string;
  };
  const configText = readFileSync(join(ROOT, 'deploy/systemd/config.yaml'), 'utf8');
  const config = parse(configText) as Config;

  test('ExecStart runs rustlb on the shipped config path; ExecReload is rustlb-ctl reload on the same file', async () => {
    const start = one('ExecStart').split(/\s+/);
    assert.match(start[0] as string, /^\/.*\/rustlb$/);
    const file = start[start.indexOf('--config') + 1];
    assert.equal(file, '/etc/rustlb/config.yaml');
    const reload = one('ExecReload').split(/\s+/);
    assert.match(reload[0] as string, /^\/.*\/rustlb-ctl$/);
    assert.equal(reload[reload.indexOf('--config') + 1], file);
    assert.equal(reload.at(-1), 'reload');
    await assertValid(configText, 'systemd-config.yaml');
  });

  test('TimeoutStopSec is above shutdown_delay + shutdown_timeout; only the primary gets SIGTERM', () => {
    assert.ok(timeSpanSeconds(one('TimeoutStopSec')) > delayPlusTimeout(config), `TimeoutStopSec ${one('TimeoutStopSec')} > ${delayPlusTimeout(config)}s`);
    assert.equal(one('KillMode'), 'mixed');
    assert.equal(one('KillSignal'), 'SIGTERM');
    assert.equal(one('Restart'), 'on-failure');
  });

  test('the control socket is in the RuntimeDirectory', () => {
    assert.equal(dirname(config.global.admin?.socket as string), `/run/${one('RuntimeDirectory')}`);
  });

  test('a dedicated user with CAP_NET_BIND_SERVICE and the usual hardening', () => {
    assert.ok(!['root', '0', ''].includes(one('User')));
    assert.match(one('AmbientCapabilities'), /\bCAP_NET_BIND_SERVICE\b/);
    const expected: Record<string, string> = { NoNewPrivileges: 'yes', ProtectSystem: 'strict', ProtectHome: 'yes', PrivateTmp: 'yes' };
    for (const [key, value] of Object.entries(expected)) assert.equal(one(key), value, key);
    assert.equal(service.MemoryDenyWriteExecute, undefined, 'V8 needs W+X memory for its JIT');
    // The shipped config listens below 1024: the capability is what makes that work.
    assert.ok(config.frontends.some((f) => portOf(f.listen) < 1024));
  });
});

describe('Dockerfile', () => {
  const stages = readDockerfile();
  const runtime = stages.at(-1);
  const config = parse(readFileSync(join(ROOT, 'deploy/docker/config.yaml'), 'utf8')) as Config;

  test('multi-stage: npm ci and build in one stage, the runtime on node:24-slim (the current LTS)', () => {
    assert.ok(stages.length >= 2);
    assert.ok(instructions(stages[0] as (typeof stages)[0], 'RUN').some((r) => r.includes('npm ci')));
    assert.match(runtime?.from ?? '', /^node:24-slim(\s|$)/);
  });

  test('runs as a numeric non-root user, tini as PID 1, STOPSIGNAL SIGTERM, HEALTHCHECK on /livez', () => {
    assert.ok(runtime !== undefined);
    const [user] = instructions(runtime, 'USER');
    assert.match(user ?? '', /^[1-9]\d*(:\d+)?$/);
    assert.deepEqual(instructions(runtime, 'STOPSIGNAL'), ['SIGTERM']);
    const entrypoint = execForm(instructions(runtime, 'ENTRYPOINT')[0] ?? '');
    assert.equal(entrypoint[0], '/usr/bin/tini');
    assert.ok(
      instructions(runtime, 'RUN').some((r) => /apt-get install .*\btini\b/.test(r)),
      'tini is installed from Debian',
    );
    const hc = instructions(runtime, 'HEALTHCHECK')[0] ?? '';
    assert.equal(execForm(hc)[0], 'node', 'slim has no curl');
    const env = instructions(runtime, 'ENV').join(' ');
    assert.match(env, new RegExp(`RUSTLB_HEALTH_URL=http://127\\.0\\.0\\.1:${portOf(config.global.metrics?.address as string)}/livez`));
  });

  test('EXPOSE names the shipped config ports, and that config is valid', async () => {
    assert.ok(runtime !== undefined);
    const exposed = instructions(runtime, 'EXPOSE')
      .flatMap((e) => e.split(/\s+/))
      .map((p) => Number(p.replace(/\/tcp$/, '')))
      .sort();
    const ports = [...config.frontends.map((f) => portOf(f.listen)), portOf(config.global.metrics?.address as string)].sort();
    assert.deepEqual(exposed, ports);
    assert.equal(hostOf(config.global.metrics?.address as string), '0.0.0.0', 'the metrics server is reachable through -p');
    assert.ok(delayPlusTimeout(config) < 10, "below docker stop's default 10s before SIGKILL");
    await assertValid(readFileSync(join(ROOT, 'deploy/docker/config.yaml'), 'utf8'), 'docker-config.yaml');
  });

  test('.dockerignore keeps build output and dependencies out of the context', () => {
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8');
    for (const p of ['**/node_modules', '**/dist', '.git']) assert.ok(ignore.split('\n').includes(p), p);
  });
});
