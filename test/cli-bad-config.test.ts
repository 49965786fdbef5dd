import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runCtl, runRustlb } from '@rustlb/testkit';

// Issue 19: every reproduction of the issue, through the real `rustlb --validate`: exit 2
// and located errors on stderr, never exit 1 with a JavaScript stack trace.

const dir = mkdtempSync(join(tmpdir(), 'rustlb-bad-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const FRONTEND = ['frontends:', '  - name: web', '    listen: "127.0.0.1:8080"', '    protocol: http', '    backend: pool'];
const POOL = ['backends:', '  - name: pool', '    servers:', '      - address: "127.0.0.1:9001"'];

const CASES: Readonly<Record<string, { text: string; errors: readonly string[] }>> = {
  'interval-number': {
    text: ['health_check_defaults: {interval: 5}', ...FRONTEND, ...POOL, '    health_check: {}'].join('\n'),
    errors: [
      'health_check_defaults.interval (line 1): must be a duration above zero: numbers with units, as 500ms, 10sec, 2 min, 1h 30m (units: ns, us, ms, s, sec, second, m, min, minute, h, hr, hour, d, day, w, week, M, month, y, year, and plurals) (got 5)',
    ],
  },
  'metrics-list': {
    text: ['global: {metrics: []}', ...FRONTEND, ...POOL].join('\n'),
    errors: ['global.metrics (line 1): must be a mapping (key: value lines) (got an empty list)'],
  },
  'metrics-null': {
    text: ['global: {metrics: }', ...FRONTEND, ...POOL].join('\n'),
    errors: ['global.metrics (line 1): must be a mapping (key: value lines) (got an empty value)'],
  },
  'self-alias': {
    text: ['global: {log_format: &s {a: *s}}', ...FRONTEND, ...POOL].join('\n'),
    errors: ['global.log_format.a (line 1): YAML error: alias *s is inside the value anchored &s: that value would contain itself'],
  },
  'alias-without-anchor': {
    text: ['global: *a', ...FRONTEND, ...POOL].join('\n'),
    errors: ['global (line 1): YAML error: alias *a refers to no anchor &a before it'],
  },
  'alias-bomb': {
    text: [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      ...Array.from(
        { length: 8 },
        (_, i) =>
          `b${i}: &b${i} [${Array(10)
            .fill(i === 0 ? '*a' : `*b${i - 1}`)
            .join(', ')}]`,
      ),
    ].join('\n'),
    errors: ['(line 9): YAML error: Excessive alias count indicates a resource exhaustion attack (aliases that expand too much)'],
  },
  'header-values': {
    text: [...FRONTEND, '    http:', '      request_headers: {X-A: "a\\uffffb"}', '      response_headers: {X-B: "\\u0100"}', ...POOL].join('\n'),
    errors: [
      'frontends[0].http.request_headers.X-A (line 7): is not a header value: U+FFFF at character 2 is above U+00FF and cannot be written as one byte (a header value is bytes: visible ASCII, tab, space and 0x80-0xFF) (got "a\\uffffb")',
      'frontends[0].http.response_headers.X-B (line 8): is not a header value: U+0100 at character 1 is above U+00FF and cannot be written as one byte (a header value is bytes: visible ASCII, tab, space and 0x80-0xFF) (got "\\u0100")',
    ],
  },
  'listen-256': {
    text: ['frontends:', '  - name: web', '    listen: "256.1.1.1:80"', '    backend: pool', ...POOL].join('\n'),
    errors: ['frontends[0].listen (line 3): "256.1.1.1" is not an IPv4 address (four numbers from 0 to 255, e.g. 10.0.0.1)'],
  },
  'nested-20000': {
    text: `frontends: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n${POOL.join('\n')}`,
    errors: ['(line 1): YAML nested too deeply: more than 64 levels of [ ] or { }'],
  },
};

// Started together: each run is mostly Node's start-up, which overlaps well.
const runs = new Map(
  Object.entries(CASES).map(([name, c]) => {
    const path = join(dir, `${name}.yaml`);
    writeFileSync(path, `${c.text}\n`);
    return [name, { path, run: runRustlb(['--validate', '--config', path]) }];
  }),
);

for (const [name, c] of Object.entries(CASES)) {
  test(`rustlb --validate ${name}: exit 2 with the located errors, no stack trace`, async () => {
    const { path, run } = runs.get(name) as { path: string; run: ReturnType<typeof runRustlb> };
    const r = await run;
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, '');
    const count = c.errors.length === 1 ? '1 error' : `${c.errors.length} errors`;
    assert.equal(r.stderr, `rustlb: invalid configuration ${path} (${count}):\n${c.errors.map((e) => `  ${e}\n`).join('')}`);
  });
}

test('rustlb --validate of an empty file names the file', async () => {
  const path = join(dir, 'empty.yaml');
  writeFileSync(path, '');
  const r = await runRustlb(['--validate', '--config', path]);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr, `rustlb: invalid configuration ${path} (1 error):\n  (line 1): ${path} is empty: it needs frontends and backends\n`);
});

test('rustlb --validate of a file that never ends (/dev/zero) reads only past the size limit and refuses it', {
  skip: process.platform !== 'linux',
}, async () => {
  const r = await runRustlb(['--validate', '--config', '/dev/zero'], 10_000);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(
    r.stderr,
    'rustlb: invalid configuration /dev/zero (1 error):\n  (line 1): the file is larger than the limit of 256 KiB; a configuration is a few KiB\n',
  );
});

test('rustlb-ctl validate (no daemon) answers the same located errors', async () => {
  const { path } = runs.get('metrics-list') as { path: string };
  const r = await runCtl(['validate', path]);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stderr, `${path} is invalid:\n  global.metrics (line 1): must be a mapping (key: value lines) (got an empty list)\n`);
});
