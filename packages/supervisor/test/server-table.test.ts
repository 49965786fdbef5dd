import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BackendConfig, HealthCheckSettings } from '@rustlb/core';
import type { Logger } from '@rustlb/telemetry';
import { Membership, ServerTable, type ServerTableChange } from '../src/server-table.js';
import { ServerTablePush } from '../src/server-table-push.js';

const CHECK: HealthCheckSettings = {
  type: 'tcp',
  path: '/',
  expectedStatus: 200,
  intervalMs: 10_000,
  timeoutMs: 5_000,
  unhealthyThreshold: 3,
  healthyThreshold: 2,
  cooldownMs: 30_000,
};

function backend(name: string, addresses: readonly string[]): BackendConfig {
  return {
    name,
    healthCheck: CHECK,
    resolveIntervalMs: 30_000,
    tls: null,
    sendProxy: null,
    servers: addresses.map((address) => {
      const i = address.lastIndexOf(':');
      const host = address.slice(0, i).replace(/^\[|\]$/g, '');
      return { address, host, port: Number(address.slice(i + 1)), weight: 2, dns: !/^[\d.]+$|:/.test(host) };
    }),
  };
}

test('an IP server is one member; a name is one member per address DNS gave', () => {
  const m = new Membership();
  const b = backend('web', ['10.0.0.1:80', 'svc.local:8080']);
  assert.deepEqual(
    m.members(b).map((x) => x.key),
    ['web/10.0.0.1:80'],
    'an unresolved name has no member yet',
  );
  assert.equal(m.setResolved('web', 'svc.local:8080', ['10.1.0.1', '10.1.0.2', 'fd00::1']), true);
  const members = m.members(b);
  assert.deepEqual(
    members.map((x) => [x.key, x.host, x.port, x.weight, x.configured]),
    [
      ['web/10.0.0.1:80', '10.0.0.1', 80, 2, '10.0.0.1:80'],
      ['web/10.1.0.1:8080', '10.1.0.1', 8080, 2, 'svc.local:8080'],
      ['web/10.1.0.2:8080', '10.1.0.2', 8080, 2, 'svc.local:8080'],
      ['web/[fd00::1]:8080', 'fd00::1', 8080, 2, 'svc.local:8080'],
    ],
  );
});

test('setResolved says whether the answer changed', () => {
  const m = new Membership();
  assert.equal(m.setResolved('web', 'svc.local:80', ['10.0.0.1']), true);
  assert.equal(m.setResolved('web', 'svc.local:80', ['10.0.0.1']), false);
  assert.equal(m.setResolved('web', 'svc.local:80', ['10.0.0.1', '10.0.0.2']), true);
  assert.equal(m.setResolved('web', 'svc.local:80', []), true);
  assert.deepEqual(m.resolvedOf('web', 'svc.local:80'), []);
  assert.equal(m.setResolved('web', 'svc.local:80', []), false);
});

test('two names resolving to one address make one member', () => {
  const m = new Membership();
  const b = backend('web', ['a.local:80', 'b.local:80']);
  m.setResolved('web', 'a.local:80', ['10.0.0.1']);
  m.setResolved('web', 'b.local:80', ['10.0.0.1', '10.0.0.2']);
  assert.deepEqual(
    m.members(b).map((x) => x.key),
    ['web/10.0.0.1:80', 'web/10.0.0.2:80'],
  );
});

test('prune forgets names and backends no longer configured', () => {
  const m = new Membership();
  m.setResolved('web', 'a.local:80', ['10.0.0.1']);
  m.setResolved('web', 'b.local:80', ['10.0.0.2']);
  m.setResolved('gone', 'c.local:80', ['10.0.0.3']);
  m.prune([backend('web', ['a.local:80'])]);
  assert.deepEqual(m.resolvedOf('web', 'a.local:80'), ['10.0.0.1']);
  assert.equal(m.resolvedOf('web', 'b.local:80'), undefined);
  assert.equal(m.resolvedOf('gone', 'c.local:80'), undefined);
});

/** A table over `backends`, recording every change it announces. */
function table(...backends: BackendConfig[]): { t: ServerTable; changes: ServerTableChange[] } {
  const t = new ServerTable();
  const changes: ServerTableChange[] = [];
  t.onChanged((c) => changes.push(c));
  t.configure(backends);
  return { t, changes };
}

const keys = (t: ServerTable) => t.rows().map((r) => r.member.key);

test('the table: a configuration announces one change; new servers start healthy and enabled; each change bumps the version', () => {
  const { t, changes } = table(backend('web', ['10.0.0.1:80', '10.0.0.2:80']));
  assert.deepEqual(changes, [{ kind: 'config' }]);
  assert.deepEqual(
    t.rows().map((r) => [r.member.key, r.healthy, r.admin, r.sinceReason]),
    [
      ['web/10.0.0.1:80', true, 'enabled', null],
      ['web/10.0.0.2:80', true, 'enabled', null],
    ],
  );
  const v1 = t.topology().version;
  t.setHealth('web/10.0.0.1:80', false, 'health check failed: refused', 1_000, CHECK);
  assert.equal(t.topology().version, v1 + 1);
  const change = changes.at(-1);
  assert.equal(change?.kind, 'health');
  assert.deepEqual(change?.kind === 'health' && [change.address, change.healthy, change.healthyLeft, change.reason], [
    '10.0.0.1:80',
    false,
    1,
    'health check failed: refused',
  ]);
  // The same verdict again, or one for a server the table does not have: nothing to announce.
  t.setHealth('web/10.0.0.1:80', false, 'passive: reset (1 in one report)', 2_000, CHECK);
  t.setHealth('web/10.9.9.9:80', false, 'health check failed: refused', 2_000, CHECK);
  assert.equal(changes.length, 2);
  assert.equal(t.topology().version, v1 + 1);
  t.setHealth('web/10.0.0.1:80', true, 'health check passed', 5_000, CHECK);
  const up = changes.at(-1);
  assert.deepEqual(up?.kind === 'health' && [up.healthy, up.downForMs, up.healthyLeft], [true, 4_000, 2]);
  assert.equal(t.rows()[0]?.since, 5_000);
});

test('the table: drain/disable of an unknown server is refused; a known one is announced and in the topology', () => {
  const { t, changes } = table(backend('web', ['10.0.0.1:80']));
  assert.equal(t.setAdmin('web/10.0.0.9:80', 'drain'), false);
  assert.equal(changes.length, 1);
  assert.equal(t.setAdmin('web/10.0.0.1:80', 'drain'), true);
  assert.deepEqual(changes.at(-1), { kind: 'admin', server: 'web/10.0.0.1:80', state: 'drain' });
  assert.equal(t.topology().backends.web?.[0]?.admin, 'drain');
  assert.equal(t.setAdmin('web/10.0.0.1:80', 'enabled'), true);
  assert.equal(t.adminOf('web/10.0.0.1:80'), 'enabled');
});

test('the table: a server removed by a reload and added again comes back enabled and healthy', () => {
  const { t } = table(backend('web', ['10.0.0.1:80', '10.0.0.2:80']));
  t.setAdmin('web/10.0.0.2:80', 'disabled');
  t.setHealth('web/10.0.0.2:80', false, 'health check failed: refused', 1_000, CHECK);
  t.configure([backend('web', ['10.0.0.1:80'])]);
  assert.deepEqual(keys(t), ['web/10.0.0.1:80']);
  t.configure([backend('web', ['10.0.0.1:80', '10.0.0.2:80'])]);
  assert.deepEqual(
    t.rows().map((r) => [r.member.key, r.healthy, r.admin]),
    [
      ['web/10.0.0.1:80', true, 'enabled'],
      ['web/10.0.0.2:80', true, 'enabled'],
    ],
  );
});

test('the table: an address DNS gave keeps its drain while its name stays configured, even when missing from an answer; it goes with the name', () => {
  const { t, changes } = table(backend('web', ['svc.local:80']));
  assert.deepEqual(keys(t), [], 'no answer yet, no server');
  t.setResolved('web', 'svc.local:80', ['10.1.0.1', '10.1.0.2']);
  assert.deepEqual(changes.at(-1), { kind: 'dns', backend: 'web', name: 'svc.local:80', addresses: ['10.1.0.1', '10.1.0.2'] });
  assert.deepEqual(keys(t), ['web/10.1.0.1:80', 'web/10.1.0.2:80']);
  const announced = changes.length;
  t.setResolved('web', 'svc.local:80', ['10.1.0.1', '10.1.0.2']);
  assert.equal(changes.length, announced, 'the same answer changes nothing');
  assert.equal(t.setAdmin('web/10.1.0.2:80', 'drain'), true);
  t.setResolved('web', 'svc.local:80', ['10.1.0.1']);
  assert.deepEqual(keys(t), ['web/10.1.0.1:80']);
  t.setResolved('web', 'svc.local:80', ['10.1.0.1', '10.1.0.2']);
  assert.equal(t.adminOf('web/10.1.0.2:80'), 'drain', 'kept while the name is configured');
  t.configure([backend('web', ['10.0.0.1:80'])]);
  t.configure([backend('web', ['10.0.0.1:80', 'svc.local:80'])]);
  t.setResolved('web', 'svc.local:80', ['10.1.0.2']);
  assert.equal(t.adminOf('web/10.1.0.2:80'), 'enabled', 'forgotten with the name');
});

test('the push: changes made in one turn go to the workers as one table, then their log lines, in order', async () => {
  const lines: string[] = [];
  const events: string[] = [];
  const log = (_fields: Record<string, unknown>, msg: string) => {
    lines.push(msg);
    events.push(`log: ${msg}`);
  };
  const logger = { info: log, warn: log, error: log, debug: () => {} } as unknown as Logger;
  const t = new ServerTable();
  const pushed: number[] = [];
  new ServerTablePush(t, logger, (topology) => {
    pushed.push(topology.version);
    events.push('push');
  });
  t.configure([backend('web', ['10.0.0.1:80', '10.0.0.2:80'])]);
  t.setHealth('web/10.0.0.1:80', false, 'health check failed: refused', Date.now(), CHECK);
  t.setHealth('web/10.0.0.2:80', false, 'health check failed: refused', Date.now(), CHECK);
  t.setAdmin('web/10.0.0.1:80', 'drain');
  assert.deepEqual(events, [], 'nothing goes out in the turn of the changes');
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(pushed, [t.topology().version], 'one push, of the table after every change');
  assert.deepEqual(events, [
    'push',
    'log: server is unhealthy',
    'log: server is unhealthy',
    'log: backend has no healthy server',
    'log: server state set by operator',
  ]);
});
