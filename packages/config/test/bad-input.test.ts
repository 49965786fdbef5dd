import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { crossCheck } from '../src/cross-check.js';
import { formatProblem, validateConfigText } from '../src/index.js';
import type { RawConfig } from '../src/raw.js';
import { configOf, POOL, yaml } from './problems-of.js';

/** The first lines of a valid http frontend on line 1-5. */
const WEB = ['frontends:', '  - name: web', '    listen: "127.0.0.1:8080"', '    backend: pool', '    protocol: http'] as const;

/** Validates without throwing, within a second, and every error has a line. */
function refused(text: string): string[] {
  const started = performance.now();
  const r = validateConfigText(text, 'rustlb.yaml');
  assert.ok(performance.now() - started < 1000, 'validation took more than a second');
  assert.equal(r.ok, false, 'the configuration was accepted');
  if (r.ok) return [];
  for (const e of r.errors) assert.notEqual(e.line, null, `no line: ${formatProblem(e)}`);
  return r.errors.map(formatProblem);
}

describe('a value the schema refused is never read by the later checks (was a TypeError)', () => {
  test('health_check_defaults with a number for a duration, and a backend with its own health_check', () => {
    for (const key of ['interval', 'timeout']) {
      const text = yaml(`health_check_defaults: {${key}: 5}`, ...WEB, ...POOL, '    health_check: {}');
      assert.deepEqual(refused(text), [
        `health_check_defaults.${key} (line 1): must be a duration above zero: numbers with units, as 500ms, 10sec, 2 min, 1h 30m (units: ns, us, ms, s, sec, second, m, min, minute, h, hr, hour, d, day, w, week, M, month, y, year, and plurals) (got 5)`,
      ]);
    }
  });

  test('global.metrics that is not a mapping', () => {
    const cases: [string, string][] = [
      ['[]', 'an empty list'],
      ['9090', '9090'],
      ['"x"', '"x"'],
      ['', 'an empty value'],
      ['[1, 2]', 'a list'],
    ];
    for (const [value, got] of cases) {
      assert.deepEqual(refused(yaml(`global: {metrics: ${value}}`, ...WEB, ...POOL)), [
        `global.metrics (line 1): must be a mapping (key: value lines) (got ${got})`,
      ]);
    }
    assert.deepEqual(refused(yaml('global: {metrics: {address: 80}}', ...WEB, ...POOL)), [
      'global.metrics.address (line 1): must be a host:port string, e.g. 127.0.0.1:8080 or [::1]:8080 (got 80)',
    ]);
  });

  test('sections and list items of the wrong type', () => {
    for (const text of [
      yaml('global: 5', ...WEB, ...POOL),
      yaml('frontends: {a: 1}', ...POOL),
      yaml('frontends: [5, null, [x]]', ...POOL),
      yaml(...WEB, '    http: []', ...POOL),
      yaml(...WEB, '    http: {request_headers: [a]}', ...POOL),
      yaml(...WEB, '    routes: {a: b}', ...POOL),
      yaml(...WEB, '    routes: [null, 5, {backend: 7}]', ...POOL),
      yaml(...WEB, 'backends: [null, 5, {name: [x], servers: {a: b}}]'),
      yaml(...WEB, ...POOL, '      - 5', '      - null', '      - {address: [x]}'),
      yaml(...WEB, ...POOL, '    health_check: 5'),
      yaml(...WEB, ...POOL, '    health_check: {interval: [], timeout: {}}'),
      yaml('health_check_defaults: []', ...WEB, ...POOL, '    health_check: {}'),
    ]) {
      assert.ok(refused(text).length > 0);
    }
  });

  test('a value that refers to itself is described without following it round', () => {
    assert.deepEqual(refused(yaml('global: {log_format: &s {a: *s}}', ...WEB, ...POOL)), [
      'global.log_format.a (line 1): YAML error: alias *s is inside the value anchored &s: that value would contain itself',
    ]);
    assert.deepEqual(refused(yaml('frontends: &f [*f]', ...POOL)), [
      'frontends[0] (line 1): YAML error: alias *f is inside the value anchored &f: that value would contain itself',
    ]);
    // An alias of an earlier value is fine, and is checked like the value it repeats.
    assert.deepEqual(refused(yaml('global: {log_format: &s pretty, log_level: *s}', ...WEB, ...POOL)), [
      'global.log_level (line 1): must be one of trace, debug, info, warn, error (got "pretty")',
    ]);
  });
});

describe('YAML limits: a clear error instead of a stack overflow or a long parse', () => {
  test('20,000 nested flow collections', () => {
    const text = `frontends: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n${POOL.join('\n')}\n`;
    assert.deepEqual(refused(text), ['(line 1): YAML nested too deeply: more than 64 levels of [ ] or { }']);
    const maps = `global: ${'{a: '.repeat(20_000)}1${'}'.repeat(20_000)}\n`;
    assert.deepEqual(refused(maps), ['(line 1): YAML nested too deeply: more than 64 levels of [ ] or { }']);
  });

  test('an unclosed flow collection deep down, on a later line', () => {
    assert.deepEqual(refused(yaml(...POOL, `frontends: ${'[ '.repeat(100)}`)), ['(line 5): YAML nested too deeply: more than 64 levels of [ ] or { }']);
  });

  test('brackets inside strings and comments do not count', () => {
    const text = yaml(
      ...WEB,
      '    http:',
      '      request_headers:',
      `        X-A: "${'['.repeat(200)}"`,
      `        X-B: '${'{'.repeat(200)}'`,
      `# ${'['.repeat(200)}`,
      ...POOL,
    );
    configOf(text);
  });

  test('deep block nesting', () => {
    assert.deepEqual(refused(`frontends:\n${'- '.repeat(20_000)}x\n`), [
      '(line 2): YAML nested too deeply: content starts beyond column 128 (the limit of indentation and nesting)',
    ]);
    const lines = ['frontends:'];
    for (let i = 1; i < 200; i++) lines.push(`${' '.repeat(i)}a${i}:`);
    assert.deepEqual(refused(yaml(...lines)), ['(line 130): YAML nested too deeply: content starts beyond column 128 (the limit of indentation and nesting)']);
  });

  test('a file over 256 KiB', () => {
    const text = yaml(...WEB, ...POOL, `# ${'x'.repeat(256 << 10)}`);
    assert.deepEqual(refused(text), ['(line 10): the file is larger than the limit of 256 KiB; a configuration is a few KiB']);
    // Counted in bytes: 100,000 two-byte characters are 200,000 bytes, within the limit.
    configOf(yaml(...WEB, ...POOL, `# ${'\u00e9'.repeat(100_000)}`));
    assert.equal(refused(yaml(...WEB, ...POOL, `# ${'\u00e9'.repeat(140_000)}`)).length, 1);
  });

  test('a flood of YAML syntax errors is cut to the first ten, quickly', () => {
    const line = '{ frontends: [ { name: web, listen: "127.0.0.1:8080", backend: pool } ], backends: [ { name: pool, servers: [] } ] }';
    const errors = refused(Array(1000).fill(line).join('\n'));
    assert.ok(errors.length <= 11, errors.join('\n'));
    assert.match(errors[errors.length - 1] as string, /more YAML syntax errors/);
  });

  test('YAML types a configuration cannot hold are located', () => {
    assert.deepEqual(refused(yaml(...WEB, '    http: {request_headers: !!set {a, b}}', ...POOL)), [
      'frontends[0].http.request_headers (line 6): a set (!!set) cannot be used in a configuration: write a plain mapping, list or string',
    ]);
    assert.deepEqual(refused(yaml('global: {log_level: !!binary aGVsbG8=}', ...WEB, ...POOL)), [
      'global.log_level (line 1): binary data (!!binary) cannot be used in a configuration: write a plain mapping, list or string',
    ]);
    assert.deepEqual(refused(yaml('global: !!omap [{log_level: info}]', ...WEB, ...POOL)), [
      'global (line 1): an ordered map (!!omap or !!pairs) cannot be used in a configuration: write a plain mapping, list or string',
    ]);
    assert.deepEqual(refused(yaml('? [a, b]', ': c', ...WEB, ...POOL)), ['(line 1): YAML error: a mapping key must be a plain value, not a list or mapping']);
  });

  test('huge values and keys give short one-line messages', () => {
    const big = 'x'.repeat(100_000);
    const errors = refused(yaml(`? ${big}`, ': 1', `global: {log_level: "${big}\\e[31m"}`, ...WEB, ...POOL));
    assert.equal(errors.length, 2);
    for (const e of errors) {
      assert.ok(e.length < 300, e.slice(0, 300));
      assert.doesNotMatch(e, /[\x00-\x1f\x7f]/);
    }
  });
});

describe('what the data plane would refuse to send is refused at config time', () => {
  test('header values with a character above U+00FF (was: every request 400, every response 502)', () => {
    const text = yaml(...WEB, '    http:', '      request_headers: {X-A: "a\\uffffb"}', '      response_headers: {X-B: "\\u0100"}', ...POOL);
    assert.deepEqual(refused(text), [
      'frontends[0].http.request_headers.X-A (line 7): is not a header value: U+FFFF at character 2 is above U+00FF and cannot be written as one byte (a header value is bytes: visible ASCII, tab, space and 0x80-0xFF) (got "a\\uffffb")',
      'frontends[0].http.response_headers.X-B (line 8): is not a header value: U+0100 at character 1 is above U+00FF and cannot be written as one byte (a header value is bytes: visible ASCII, tab, space and 0x80-0xFF) (got "\\u0100")',
    ]);
  });

  test('DEL and other control characters are refused; tab, space and obs-text are not', () => {
    assert.equal(refused(yaml(...WEB, '    http: {request_headers: {X-A: "a\\x7fb"}}', ...POOL)).length, 1);
    assert.equal(refused(yaml(...WEB, '    http: {request_headers: {X-A: "a\\x1bb"}}', ...POOL)).length, 1);
    const config = configOf(yaml(...WEB, '    http: {request_headers: {X-A: "caf\\u00e9\\tau lait \\xff"}}', ...POOL));
    assert.deepEqual(config.frontends[0]?.http.requestHeaders, [{ name: 'X-A', value: 'caf\u00e9\tau lait \u00ff' }]);
  });

  test('framing and connection fields cannot be set', () => {
    const text = yaml(
      ...WEB,
      '    http:',
      '      request_headers: {Transfer-Encoding: chunked, Host: example.com}',
      '      response_headers: {content-length: 0}',
      ...POOL,
    );
    assert.deepEqual(refused(text), [
      'frontends[0].http.request_headers.Transfer-Encoding (line 7): Transfer-Encoding cannot be set: the proxy writes it from the message itself (framing and connection fields), and a fixed value would break every message',
      'frontends[0].http.response_headers.content-length (line 8): content-length cannot be set: the proxy writes it from the message itself (framing and connection fields), and a fixed value would break every message',
    ]);
  });

  test('a variable is checked with every value it can be substituted with', () => {
    // The schema keeps names and addresses to safe characters; the check does not rely on
    // it: fed a name and an address the schema would refuse, it refuses the header.
    const raw = {
      frontends: [
        {
          name: 'web',
          listen: '127.0.0.1:8080',
          protocol: 'http',
          backend: 'po\u0100l',
          routes: [{ path_prefix: '/', backend: 'other' }],
          http: { request_headers: { 'X-To': '$backend_name' }, response_headers: { 'X-Addr': 'at $backend_addr' } },
        },
      ],
      backends: [
        { name: 'po\u0100l', servers: [{ address: '127.0.0.1:9001' }] },
        { name: 'other', servers: [{ address: '10.0.0.1:80' }, { address: 'a\r\nb:80' }] },
      ],
    };
    const errors = crossCheck(raw as unknown as RawConfig, raw, () => 1, []).errors.map(formatProblem);
    assert.deepEqual(errors, [
      'frontends[0].http.request_headers.X-To (line 1): $backend_name would put "po\\u0100l" (backends[0].name, line 1) into this header, which is not a header value: U+0100 at character 3 is above U+00FF and cannot be written as one byte (a header value is bytes: visible ASCII, tab, space and 0x80-0xFF)',
      'frontends[0].http.response_headers.X-Addr (line 1): $backend_addr would put "a\\r\\nb:80" (backends[1].servers[1].address, line 1) into this header, which is not a header value: U+000D at character 2 is a line break: it would end the header line',
    ]);
  });

  test('Content-Length, and Host on requests, cannot be removed', () => {
    const text = yaml(
      ...WEB,
      '    http:',
      '      remove_request_headers: [X-Debug, host, Content-Length]',
      '      remove_response_headers: [content-length, Host]',
      ...POOL,
    );
    assert.deepEqual(refused(text), [
      'frontends[0].http.remove_request_headers[1] (line 7): host cannot be removed: every HTTP/1.1 request must carry it (set it with request_headers instead)',
      'frontends[0].http.remove_request_headers[2] (line 7): Content-Length cannot be removed: it frames the body, which would then be read as the next message',
      'frontends[0].http.remove_response_headers[0] (line 8): content-length cannot be removed: it frames the body, which would then be read as the next message',
    ]);
  });

  test('variables bring in only what a header may hold', () => {
    const text = yaml(...WEB, '    http:', '      request_headers: {X-To: "$backend_name $backend_addr", X-From: "$client_ip:$client_port"}', ...POOL);
    configOf(text);
  });

  test('listen and server addresses that are not IP addresses nor host names (256.1.1.1 was accepted)', () => {
    assert.deepEqual(refused(yaml('frontends:', '  - name: web', '    listen: "256.1.1.1:80"', '    backend: pool', ...POOL)), [
      'frontends[0].listen (line 3): "256.1.1.1" is not an IPv4 address (four numbers from 0 to 255, e.g. 10.0.0.1)',
    ]);
    assert.deepEqual(refused(yaml(...WEB, 'backends:', '  - name: pool', '    servers:', '      - address: "10.0.0:80"')), [
      'backends[0].servers[0].address (line 9): "10.0.0" is not an IPv4 address (four numbers from 0 to 255, e.g. 10.0.0.1)',
    ]);
    assert.deepEqual(refused(yaml('global: {metrics: {address: "1.2.3.999:9090"}}', ...WEB, ...POOL)), [
      'global.metrics.address (line 1): "1.2.3.999" is not an IPv4 address (four numbers from 0 to 255, e.g. 10.0.0.1)',
    ]);
  });
});
