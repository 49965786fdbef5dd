import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDuration, parseSize } from '../src/index.js';
import { configOf, yaml } from './problems-of.js';

test('durations: 100ms, 5s, 1m, 1h, 1m30s', () => {
  const cases: [string, number][] = [
    ['100ms', 100],
    ['5s', 5_000],
    ['1m', 60_000],
    ['1h', 3_600_000],
    ['1m30s', 90_000],
    ['1h2m3s4ms', 3_723_004],
    ['1m 30s', 90_000],
    ['1.5s', 1_500],
    ['0s', 0],
  ];
  for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
});

test('durations without a unit, with an unknown unit or negative are refused', () => {
  for (const text of ['', ' ', '10', 's', '5 sec', '10sec', '-1s', '1m30', '5S', '1y', 'ms5', '1e3ms'])
    assert.equal(parseDuration(text), null, JSON.stringify(text));
});

test('durations reach the configuration in milliseconds', () => {
  const text = yaml(
    'global:',
    '  shutdown_delay: 100ms',
    '  shutdown_timeout: 1m30s',
    'health_check_defaults:',
    '  interval: 5s',
    '  cooldown: 1h',
    'frontends:',
    '  - name: web',
    '    listen: "127.0.0.1:8080"',
    '    backend: pool',
    '    tcp:',
    '      connect_timeout: 1m',
    'backends:',
    '  - name: pool',
    '    servers: []',
  );
  const c = configOf(text);
  assert.equal(c.global.shutdownDelayMs, 100);
  assert.equal(c.global.shutdownTimeoutMs, 90_000);
  assert.equal(c.healthCheckDefaults.intervalMs, 5_000);
  assert.equal(c.healthCheckDefaults.cooldownMs, 3_600_000);
  assert.equal(c.frontends[0]?.tcp.connectTimeoutMs, 60_000);
});

test('sizes: bytes, KiB and MiB (KB and MB read as binary units too)', () => {
  const cases: [string | number, number][] = [
    ['16KiB', 16_384],
    ['16 KiB', 16_384],
    ['16kb', 16_384],
    ['1MiB', 1_048_576],
    ['1M', 1_048_576],
    ['512', 512],
    [8192, 8192],
  ];
  for (const [value, bytes] of cases) assert.equal(parseSize(value), bytes, String(value));
  for (const value of ['', '16 GB', '1GiB', '-1', '0', 0, -5, 1.5, 2 ** 31]) assert.equal(parseSize(value), null, String(value));
});
