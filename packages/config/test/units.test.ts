import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDuration, parseSize } from '../src/index.js';
import { configOf, warningsOf, yaml } from './problems-of.js';

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
  for (const text of ['', ' ', '10', 's', '-1s', '1m30', '5S', '1parsec', 'ms5', '1e3ms', '1,5s', '1.s', '10 months 1', '1s;'])
    assert.equal(parseDuration(text), null, JSON.stringify(text));
});

test("durations: every unit and spelling of the original's parser (humantime), combined terms, spaces", () => {
  const cases: [string, number][] = [
    ['10sec', 10_000],
    ['10secs', 10_000],
    ['1second', 1_000],
    ['50seconds', 50_000],
    ['1min', 60_000],
    ['12mins', 720_000],
    ['1minute', 60_000],
    ['7minutes', 420_000],
    ['2 min', 120_000],
    ['1h 30m', 5_400_000],
    ['7hr', 25_200_000],
    ['7hrs', 25_200_000],
    ['1hour', 3_600_000],
    ['24hours', 86_400_000],
    ['2days', 172_800_000],
    ['1day', 86_400_000],
    ['1week', 604_800_000],
    ['2w', 1_209_600_000],
    ['1ms', 1],
    ['31msec', 31],
    ['31millis', 31],
    ['500us', 1],
    ['1500usec', 2],
    ['17nsec', 1],
    ['33ns', 1],
    ['17nanos', 1],
    ['1month', 2_630_016_000],
    ['3months', 7_890_048_000],
    ['12M', 31_560_192_000],
    ['1year', 31_557_600_000],
    ['7years', 220_903_200_000],
    ['2y', 63_115_200_000],
    ['20 min 17 nsec ', 1_200_001],
    ['2h 15m', 8_100_000],
    ['  5s', 5_000],
    ['1.1s', 1_100],
    ['1 0s', 10_000],
    ['1h30m 15 s', 5_415_000],
  ];
  for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
});

test('a span longer than a Node.js timer validates with a warning and waits the longest a timer can', () => {
  const text = yaml(
    'health_check_defaults:',
    '  cooldown: 1year',
    'frontends:',
    '  - name: web',
    '    listen: "127.0.0.1:8080"',
    '    backend: pool',
    '    tcp:',
    '      idle_timeout: 30 days',
    'backends:',
    '  - name: pool',
    '    servers: []',
  );
  assert.equal(configOf(text).healthCheckDefaults.cooldownMs, 2 ** 31 - 1);
  assert.equal(configOf(text).frontends[0]?.tcp.idleTimeoutMs, 2 ** 31 - 1);
  assert.deepEqual(warningsOf(text), [
    'health_check_defaults.cooldown (line 2): "1year" is longer than 24.8 days, the longest a Node.js timer waits: rustlb waits 24.8 days',
    'frontends[0].tcp.idle_timeout (line 8): "30 days" is longer than 24.8 days, the longest a Node.js timer waits: rustlb waits 24.8 days',
  ]);
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
