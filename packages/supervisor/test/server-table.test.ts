import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BackendConfig, HealthCheckSettings } from '@rustlb/core';
import { Membership } from '../src/server-table.js';

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
