import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { configOf, errorsOf, POOL, warningsOf, yaml } from './problems-of.js';

// Files the original rustlb ran (issue 16): each validates here, with a warning where
// rustlb reads it differently, and a refusal only where it protects something.

const WEB = ['frontends:', '  - name: web', '    listen: "127.0.0.1:8080"', '    protocol: http', '    backend: pool'] as const;

describe('what the original accepted', () => {
  test('global.log_level in any case (the original lower-cased it)', () => {
    for (const level of ['INFO', 'Warn', 'DEBUG', 'error', 'tRaCe']) {
      const c = configOf(yaml('global:', `  log_level: ${level}`, ...WEB, ...POOL));
      assert.equal(c.global.logLevel, level.toLowerCase());
    }
    assert.deepEqual(errorsOf(yaml('global:', '  log_level: VERBOSE', ...WEB, ...POOL)), [
      'global.log_level (line 2): must be one of trace, debug, info, warn, error (got "verbose")',
    ]);
  });

  test('weights above 1000, up to the original u32', () => {
    const c = configOf(yaml(...WEB, ...POOL, '        weight: 5000', '      - address: "127.0.0.1:9002"', '        weight: 4294967295'));
    assert.deepEqual(
      c.backends[0]?.servers.map((s) => s.weight),
      [5000, 4294967295],
    );
    assert.match(errorsOf(yaml(...WEB, ...POOL, '        weight: 4294967296'))[0] ?? '', /weight \(line 10\): must be a whole number from 1 to 4294967295/);
  });

  test('names with spaces and slashes', () => {
    const text = yaml(
      'frontends:',
      '  - name: public web',
      '    listen: "127.0.0.1:8080"',
      '    protocol: http',
      '    backend: api/v1 pool',
      'backends:',
      '  - name: api/v1 pool',
      '    servers:',
      '      - address: "127.0.0.1:9001"',
    );
    const c = configOf(text);
    assert.equal(c.frontends[0]?.name, 'public web');
    assert.equal(c.backends[0]?.name, 'api/v1 pool');
    assert.deepEqual(warningsOf(text), []);
  });

  test('a name longer than 128 characters runs, with a warning', () => {
    const long = 'w'.repeat(200);
    const text = yaml('frontends:', `  - name: ${long}`, '    listen: "127.0.0.1:8080"', '    backend: pool', ...POOL);
    assert.equal(configOf(text).frontends[0]?.name, long);
    assert.deepEqual(warningsOf(text), [
      'frontends[0].name (line 2): is 200 characters long: every metric series and log line carries it (keep names under 128)',
    ]);
  });

  test('a frontend on the metrics address while metrics.enabled is false (nothing is bound there unless probes: true)', () => {
    const file = (probes: string[]) =>
      yaml(
        'global:',
        '  metrics:',
        '    enabled: false',
        '    address: "127.0.0.1:9090"',
        ...probes,
        'frontends:',
        '  - name: web',
        '    listen: "127.0.0.1:9090"',
        '    backend: pool',
        ...POOL,
      );
    const c = configOf(file([]));
    assert.equal(c.global.metrics.enabled, false);
    assert.equal(c.global.metrics.probes, false);
    assert.deepEqual(errorsOf(file(['    probes: true'])), [
      'global.metrics.address (line 4): 127.0.0.1:9090 overlaps frontends[0] (listen 127.0.0.1:9090, line 8)',
    ]);
    // Metrics on: the probes follow them unless turned off.
    assert.equal(configOf(yaml(...WEB, ...POOL)).global.metrics.probes, true);
    assert.equal(configOf(yaml('global:', '  metrics:', '    probes: false', ...WEB, ...POOL)).global.metrics.probes, false);
  });

  test('expected_status: 100-999 (600-999 with a warning); outside, no status line could ever match', () => {
    const hc = (status: number) => yaml(...WEB, ...POOL, '    health_check:', '      type: http', '      path: /health', `      expected_status: ${status}`);
    assert.deepEqual(warningsOf(hc(204)), []);
    assert.equal(configOf(hc(799)).backends[0]?.healthCheck.expectedStatus, 799);
    assert.deepEqual(warningsOf(hc(799)), [
      'backends[0].health_check.expected_status (line 13): 799 is not a status HTTP defines (100-599): only a server that sends it is healthy',
    ]);
    for (const bad of [99, 1000, 0])
      assert.deepEqual(errorsOf(hc(bad)), [
        `backends[0].health_check.expected_status (line 13): must be a status code from 100 to 999: a status line carries three digits, so any other value could never match and every server would stay unhealthy (got ${bad})`,
      ]);
  });

  test('a server listed twice validates with a warning (one server, weights added)', () => {
    const text = yaml(...WEB, ...POOL, '      - address: "127.0.0.1:9001"');
    assert.equal(configOf(text).backends[0]?.servers.length, 1);
    assert.equal(configOf(text).backends[0]?.servers[0]?.weight, 2);
    assert.equal(warningsOf(text).length, 1);
  });
});

describe('X-Real-IP and X-Served-By (the original always sent them)', () => {
  test('on by default, each with its switch', () => {
    const on = configOf(yaml(...WEB, ...POOL)).frontends[0]?.http;
    assert.equal(on?.xRealIp, true);
    assert.equal(on?.servedBy, true);
    const off = configOf(yaml(...WEB, '    http:', '      x_real_ip: false', '      served_by: false', ...POOL)).frontends[0]?.http;
    assert.equal(off?.xRealIp, false);
    assert.equal(off?.servedBy, false);
  });
});

describe('timeouts of 0', () => {
  const zero = 'must be a timeout above zero (0 would fail at once or turn a protection off)';
  test('tcp.connect_timeout: 0s is refused; tcp.idle_timeout: 0s means never', () => {
    const tcp = (key: string) =>
      yaml('frontends:', '  - name: db', '    listen: "127.0.0.1:5432"', '    backend: pool', '    tcp:', `      ${key}: 0s`, ...POOL);
    assert.equal(errorsOf(tcp('connect_timeout')).length, 1);
    assert.ok(errorsOf(tcp('connect_timeout'))[0]?.startsWith(`frontends[0].tcp.connect_timeout (line 6): ${zero}`));
    assert.equal(configOf(tcp('idle_timeout')).frontends[0]?.tcp.idleTimeoutMs, 0);
  });

  test('every HTTP timeout at 0s is refused, with its path and line', () => {
    for (const key of ['client_header', 'client_idle', 'client_stall', 'connect', 'response', 'tunnel_idle', 'upstream_idle']) {
      const errors = errorsOf(yaml(...WEB, '    http:', '      timeouts:', `        ${key}: 0ms`, ...POOL));
      assert.equal(errors.length, 1, key);
      assert.ok(errors[0]?.startsWith(`frontends[0].http.timeouts.${key} (line 8): ${zero}`), errors[0]);
    }
  });

  test('the durations where 0 has a meaning keep it', () => {
    const c = configOf(yaml('global:', '  shutdown_delay: 0s', '  shutdown_timeout: 0s', 'health_check_defaults:', '  cooldown: 0s', ...WEB, ...POOL));
    assert.equal(c.global.shutdownDelayMs, 0);
    assert.equal(c.global.shutdownTimeoutMs, 0);
    assert.equal(c.healthCheckDefaults.cooldownMs, 0);
  });
});
