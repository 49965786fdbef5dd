import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { HealthCheckSettings, ResolvedConfig } from '@rustlb/core';
import { defaultAdminSocket } from '../src/index.js';
import { configOf, yaml } from './problems-of.js';

const MINIMAL = yaml(
  'frontends:',
  '  - name: web',
  '    listen: "127.0.0.1:8080"',
  '    backend: pool',
  'backends:',
  '  - name: pool',
  '    servers:',
  '      - address: "127.0.0.1:9001"',
  '      - address: "app.internal:9002"',
);

const DEFAULT_CHECK: HealthCheckSettings = {
  type: 'tcp',
  path: '/',
  expectedStatus: 200,
  intervalMs: 10_000,
  timeoutMs: 5_000,
  unhealthyThreshold: 3,
  healthyThreshold: 2,
  cooldownMs: 30_000,
};

describe('defaults of SPEC §3', () => {
  test('a minimal configuration gets every default, durations in ms and sizes in bytes', () => {
    const file = join(tmpdir(), 'minimal.yaml');
    const expected: ResolvedConfig = {
      global: {
        logLevel: 'info',
        logFormat: 'json',
        metrics: { enabled: true, probes: true, address: { host: '127.0.0.1', port: 9090 }, path: '/metrics' },
        workers: 'auto',
        shutdownDelayMs: 0,
        shutdownTimeoutMs: 30_000,
        adminSocket: defaultAdminSocket(file),
        statusPage: { enabled: null, actions: false, token: null },
        accessLog: true,
        resolvers: [],
      },
      healthCheckDefaults: DEFAULT_CHECK,
      frontends: [
        {
          name: 'web',
          listenText: '127.0.0.1:8080',
          listen: { host: '127.0.0.1', port: 8080 },
          protocol: 'tcp',
          backend: 'pool',
          algorithm: 'round_robin',
          maxConnections: null,
          tcp: { connectTimeoutMs: 10_000, idleTimeoutMs: 3_600_000 },
          http: {
            requestHeaders: [],
            responseHeaders: [],
            removeRequestHeaders: [],
            removeResponseHeaders: [],
            via: true,
            xRealIp: true,
            servedBy: true,
            trustedProxies: [],
            maxHeaderSize: 16_384,
            timeouts: {
              clientHeaderMs: 10_000,
              clientIdleMs: 65_000,
              clientStallMs: 60_000,
              connectMs: 10_000,
              responseMs: 60_000,
              tunnelIdleMs: 3_600_000,
              upstreamIdleMs: 4_000,
            },
          },
          routes: [],
          tls: null,
          proxyProtocol: false,
        },
      ],
      backends: [
        {
          name: 'pool',
          servers: [
            { address: '127.0.0.1:9001', host: '127.0.0.1', port: 9001, weight: 1, dns: false },
            { address: 'app.internal:9002', host: 'app.internal', port: 9002, weight: 1, dns: true },
          ],
          healthCheck: DEFAULT_CHECK,
          resolveIntervalMs: 30_000,
          tls: null,
          sendProxy: null,
        },
      ],
    };
    assert.deepEqual(configOf(MINIMAL, file), expected);
  });

  test('a backend health_check takes its unset keys from health_check_defaults', () => {
    const text = yaml(
      'health_check_defaults:',
      '  interval: 7s',
      '  timeout: 1500ms',
      '  unhealthy_threshold: 5',
      '  healthy_threshold: 4',
      '  cooldown: 1m',
      'frontends:',
      '  - name: web',
      '    listen: "127.0.0.1:8080"',
      '    backend: checked',
      'backends:',
      '  - name: checked',
      '    servers:',
      '      - address: "127.0.0.1:9001"',
      '    health_check:',
      '      type: http',
      '      timeout: 2s',
      '  - name: unchecked',
      '    servers: []',
    );
    const c = configOf(text);
    const inherited = { intervalMs: 7_000, unhealthyThreshold: 5, healthyThreshold: 4, cooldownMs: 60_000 };
    assert.deepEqual(c.backends[0]?.healthCheck, { type: 'http', path: '/', expectedStatus: 200, timeoutMs: 2_000, ...inherited });
    assert.deepEqual(c.backends[1]?.healthCheck, { type: 'tcp', path: '/', expectedStatus: 200, timeoutMs: 1_500, ...inherited });
  });

  test('the control socket: beside the config by hash when unset, an absolute path when set', () => {
    assert.equal(defaultAdminSocket('/etc/rustlb/a.yaml'), defaultAdminSocket('/etc/rustlb/../rustlb/a.yaml'));
    assert.notEqual(defaultAdminSocket('/etc/rustlb/a.yaml'), defaultAdminSocket('/etc/rustlb/b.yaml'));
    assert.match(defaultAdminSocket('/etc/rustlb/a.yaml'), /rustlb-[0-9a-f]{12}\.sock$/);
    const set = configOf(yaml('global:', '  admin:', '    socket: run/ctl.sock', MINIMAL));
    assert.equal(set.global.adminSocket, join(process.cwd(), 'run/ctl.sock'));
  });

  test('resolvers default to port 53', () => {
    const c = configOf(yaml('global:', '  resolvers: ["10.0.0.53", "10.0.0.54:5353", "fd00::53", "[fd00::54]:5353"]', MINIMAL));
    assert.deepEqual(c.global.resolvers, [
      { host: '10.0.0.53', port: 53 },
      { host: '10.0.0.54', port: 5353 },
      { host: 'fd00::53', port: 53 },
      { host: 'fd00::54', port: 5353 },
    ]);
  });

  test('explicit values replace the defaults, header maps keep order and stringify scalars', () => {
    const text = yaml(
      'global:',
      '  workers: 3',
      '  log_format: pretty',
      'frontends:',
      '  - name: web',
      '    listen: "[::1]:8080"',
      '    protocol: http',
      '    backend: pool',
      '    algorithm: ip_hash',
      '    max_connections: 100',
      '    http:',
      '      max_header_size: 1MiB',
      '      via: false',
      '      request_headers:',
      '        X-Real-IP: $client_ip',
      '        X-Flag: true',
      '        X-Num: 42',
      '      remove_request_headers: [Server, X-Powered-By]',
      '    routes:',
      '      - host: "*.Example.COM"',
      '        methods: [get, post]',
      '        backend: pool',
      'backends:',
      '  - name: pool',
      '    servers:',
      '      - address: "127.0.0.1:9001"',
      '        weight: 5',
    );
    const c = configOf(text);
    const f = c.frontends[0];
    assert.equal(c.global.workers, 3);
    assert.equal(c.global.logFormat, 'pretty');
    assert.deepEqual(f?.listen, { host: '::1', port: 8080 });
    assert.equal(f?.algorithm, 'ip_hash');
    assert.equal(f?.maxConnections, 100);
    assert.equal(f?.http.maxHeaderSize, 1_048_576);
    assert.equal(f?.http.via, false);
    assert.deepEqual(f?.http.requestHeaders, [
      { name: 'X-Real-IP', value: '$client_ip' },
      { name: 'X-Flag', value: 'true' },
      { name: 'X-Num', value: '42' },
    ]);
    assert.deepEqual(f?.http.removeRequestHeaders, ['server', 'x-powered-by']);
    assert.deepEqual(f?.routes, [{ host: '*.example.com', pathPrefix: null, methods: ['GET', 'POST'], backend: 'pool', algorithm: null }]);
    assert.equal(c.backends[0]?.servers[0]?.weight, 5);
  });
});

describe('the resolved configuration is deep-frozen', () => {
  function unfrozen(value: unknown, path: string, out: string[]): string[] {
    if (value === null || typeof value !== 'object') return out;
    if (!Object.isFrozen(value)) out.push(path);
    for (const [k, v] of Object.entries(value)) unfrozen(v, `${path}.${k}`, out);
    return out;
  }

  test('every object and array in it is frozen', () => {
    const text = yaml(
      'global:',
      '  resolvers: ["10.0.0.53"]',
      'frontends:',
      '  - name: web',
      '    listen: "127.0.0.1:8080"',
      '    protocol: http',
      '    backend: pool',
      '    http:',
      '      request_headers: { X-A: b }',
      '      trusted_proxies: [10.0.0.0/8]',
      '    routes:',
      '      - path_prefix: /api/',
      '        methods: [GET]',
      '        backend: pool',
      'backends:',
      '  - name: pool',
      '    servers:',
      '      - address: "127.0.0.1:9001"',
    );
    const c = configOf(text);
    assert.deepEqual(unfrozen(c, 'config', []), []);
    assert.throws(() => {
      (c.global as { workers: unknown }).workers = 9;
    }, TypeError);
    const [web] = c.frontends;
    const [pool] = c.backends;
    assert.ok(web !== undefined && pool !== undefined);
    assert.throws(() => (web.routes as unknown[]).push({}), TypeError);
    assert.throws(() => {
      (pool.servers[0] as { weight: number }).weight = 9;
    }, TypeError);
  });
});
