import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { errorsOf, POOL, yaml } from './problems-of.js';

const WEB = ['frontends:', '  - name: web', '    listen: "127.0.0.1:8080"', '    backend: pool'] as const;

describe('schema errors name the path and the line', () => {
  test('unknown key, with a did-you-mean', () => {
    const text = yaml(...WEB, '    protocl: http', ...POOL);
    assert.deepEqual(errorsOf(text), ['frontends[0].protocl (line 5): unknown key "protocl" (did you mean "protocol"?)']);
  });

  test('unknown key with nothing close: no guess', () => {
    const text = yaml('global:', '  colour: blue', ...WEB, ...POOL);
    assert.deepEqual(errorsOf(text), ['global.colour (line 2): unknown key "colour"']);
  });

  test('unknown top-level key suggests the real section', () => {
    const text = yaml(...WEB, ...POOL, 'health_checks_defaults:', '  interval: 5s');
    assert.deepEqual(errorsOf(text), ['health_checks_defaults (line 9): unknown key "health_checks_defaults" (did you mean "health_check_defaults"?)']);
  });

  test('bad enum value, with a did-you-mean', () => {
    const text = yaml(...WEB, '    algorithm: round_robbin', ...POOL);
    assert.deepEqual(errorsOf(text), [
      'frontends[0].algorithm (line 5): must be one of round_robin, weighted, least_connections, ip_hash (got "round_robbin"); did you mean "round_robin"?',
    ]);
  });

  test('bad enum value far from any: the choices, no guess', () => {
    const text = yaml('global:', '  log_level: loud', ...WEB, ...POOL);
    assert.deepEqual(errorsOf(text), ['global.log_level (line 2): must be one of trace, debug, info, warn, error (got "loud")']);
  });

  test('missing required key', () => {
    const text = yaml('frontends:', '  - name: web', '    listen: "127.0.0.1:8080"', ...POOL, '  - servers: []');
    assert.deepEqual(errorsOf(text), ['frontends[0].backend (line 2): is required', 'backends[1].name (line 8): is required']);
  });

  test('missing top-level sections', () => {
    assert.deepEqual(errorsOf(yaml('global:', '  log_level: info')), ['frontends (line 1): is required', 'backends (line 1): is required']);
  });

  test('wrong types', () => {
    const text = yaml(
      'global:',
      '  access_log: "yes"',
      '  workers: many',
      'frontends:',
      '  - name: web',
      '    listen: 8080',
      '    backend: pool',
      '    http: []',
      'backends:',
      '  - name: pool',
      '    servers: "127.0.0.1:9001"',
    );
    assert.deepEqual(errorsOf(text), [
      'global.access_log (line 2): must be true or false (got "yes")',
      'global.workers (line 3): must be "auto" or a whole number from 1 to 256 (got "many")',
      'frontends[0].listen (line 6): must be a host:port string, e.g. 127.0.0.1:8080 or [::1]:8080 (got 8080)',
      'frontends[0].http (line 8): must be a mapping (key: value lines) (got an empty list)',
      'backends[0].servers (line 11): must be a list (got "127.0.0.1:9001")',
    ]);
  });

  test('length limits say which limit', () => {
    const text = yaml(
      'global:',
      '  admin:',
      '    socket: ""',
      ...WEB,
      '    protocol: http',
      '    routes:',
      '      - methods: []',
      '        backend: pool',
      ...POOL,
      '  - name: b',
      '    servers: []',
      '    tls:',
      `      servername: ${'b'.repeat(254)}`,
    );
    assert.deepEqual(errorsOf(text), [
      'global.admin.socket (line 3): must not be empty (got "")',
      'frontends[0].routes[0].methods (line 10): must list at least 1 item (got an empty list)',
      `backends[1].tls.servername (line 19): must be at most 253 characters long (got "${'b'.repeat(56)}...")`,
    ]);
  });

  test('bad durations', () => {
    const text = yaml(
      'global:',
      '  shutdown_timeout: 30',
      '  shutdown_delay: 10 secs 5',
      'health_check_defaults:',
      '  cooldown: "-1s"',
      '  interval: 1m30',
      ...WEB,
      '    tcp:',
      '      connect_timeout: ""',
      ...POOL,
    );
    const hint =
      'must be a duration: numbers with units, as 100ms, 1.5s, 10sec, 2 min, 1h 30m (units: ns, us, ms, s, sec, second, m, min, minute, h, hr, hour, d, day, w, week, M, month, y, year, and plurals)';
    assert.deepEqual(errorsOf(text), [
      `global.shutdown_timeout (line 2): ${hint} (got 30)`,
      `global.shutdown_delay (line 3): ${hint} (got "10 secs 5")`,
      `health_check_defaults.cooldown (line 5): ${hint} (got "-1s")`,
      'health_check_defaults.interval (line 6): must be a duration above zero: numbers with units, as 500ms, 10sec, 2 min, 1h 30m (units: ns, us, ms, s, sec, second, m, min, minute, h, hr, hour, d, day, w, week, M, month, y, year, and plurals) (got "1m30")',
      'frontends[0].tcp.connect_timeout (line 12): must be a timeout above zero (0 would fail at once or turn a protection off): numbers with units, as 500ms, 10sec, 2 min (units: ns, us, ms, s, sec, second, m, min, minute, h, hr, hour, d, day, w, week, M, month, y, year, and plurals) (got "")',
    ]);
  });

  test('probe and resolve intervals of zero are rejected (they would spin)', () => {
    const text = yaml(
      'health_check_defaults:',
      '  interval: 0s',
      ...WEB,
      'backends:',
      '  - name: pool',
      '    resolve_interval: 0ms',
      '    servers:',
      '      - address: "127.0.0.1:9001"',
      '    health_check:',
      '      timeout: 0s',
    );
    const hint =
      'must be a duration above zero: numbers with units, as 500ms, 10sec, 2 min, 1h 30m (units: ns, us, ms, s, sec, second, m, min, minute, h, hr, hour, d, day, w, week, M, month, y, year, and plurals)';
    assert.deepEqual(errorsOf(text), [
      `health_check_defaults.interval (line 2): ${hint} (got "0s")`,
      `backends[0].resolve_interval (line 9): ${hint} (got "0ms")`,
      `backends[0].health_check.timeout (line 13): ${hint} (got "0s")`,
    ]);
  });

  test('bad sizes', () => {
    const text = yaml(
      'frontends:',
      '  - name: a',
      '    listen: "127.0.0.1:8080"',
      '    protocol: http',
      '    backend: pool',
      '    http:',
      '      max_header_size: 16 GB',
      '  - name: b',
      '    listen: "127.0.0.1:8081"',
      '    protocol: http',
      '    backend: pool',
      '    http:',
      '      max_header_size: 0',
      ...POOL,
    );
    const hint = 'must be a size: bytes, or a number with KiB or MiB (e.g. 16KiB)';
    assert.deepEqual(errorsOf(text), [
      `frontends[0].http.max_header_size (line 7): ${hint} (got "16 GB")`,
      `frontends[1].http.max_header_size (line 13): ${hint} (got 0)`,
    ]);
  });

  test('malformed host:port: each mistake explained', () => {
    const listens = ['127.0.0.1', '127.0.0.1:0', '127.0.0.1:70000', '::1:8080', '[::1]', ':8080', 'web server:80', 'localhost:http'];
    const lines = ['frontends:', ...listens.flatMap((l, i) => [`  - name: f${i}`, `    listen: "${l}"`, '    backend: pool'])];
    const text = yaml(...lines, ...POOL);
    assert.deepEqual(errorsOf(text), [
      'frontends[0].listen (line 3): "127.0.0.1" has no port (expected host:port, e.g. 127.0.0.1:8080 or [::1]:8080)',
      'frontends[1].listen (line 6): port 0 is out of range: use 1-65535',
      'frontends[2].listen (line 9): port 70000 is out of range: use 1-65535',
      'frontends[3].listen (line 12): an IPv6 address needs brackets: write "[::1]:8080"',
      'frontends[4].listen (line 15): "[::1]" has no port (expected host:port, e.g. 127.0.0.1:8080 or [::1]:8080)',
      'frontends[5].listen (line 18): ":8080" has no host (use 0.0.0.0 for every IPv4 address, [::] for every IPv6 one)',
      'frontends[6].listen (line 21): "web server" is not an IP address or host name',
      'frontends[7].listen (line 24): port "http" is not a number (expected host:port, e.g. 127.0.0.1:8080 or [::1]:8080)',
    ]);
  });

  test('malformed server address and metrics address', () => {
    const text = yaml('global:', '  metrics:', '    address: "fe80::1"', ...WEB, 'backends:', '  - name: pool', '    servers:', '      - address: "10.0.0.1"');
    assert.deepEqual(errorsOf(text), [
      'global.metrics.address (line 3): "fe80::1" has no port; an IPv6 address is written in brackets with a port, e.g. [::1]:8080',
      'backends[0].servers[0].address (line 11): "10.0.0.1" has no port (expected host:port, e.g. 127.0.0.1:8080 or [::1]:8080)',
    ]);
  });

  test('zero weight', () => {
    const text = yaml(...WEB, 'backends:', '  - name: pool', '    servers:', '      - address: "127.0.0.1:9001"', '        weight: 0');
    assert.deepEqual(errorsOf(text), [
      'backends[0].servers[0].weight (line 9): must be a whole number from 1 to 4294967295 (0 would never be picked: leave such a server out, or drain it with rustlb-ctl) (got 0)',
    ]);
  });

  test('non-positive thresholds, in the defaults and in a backend', () => {
    const text = yaml(
      'health_check_defaults:',
      '  unhealthy_threshold: 0',
      '  healthy_threshold: -1',
      ...WEB,
      ...POOL,
      '    health_check:',
      '      healthy_threshold: 0',
      '      unhealthy_threshold: 1.5',
    );
    const hint = 'must be a whole number of at least 1';
    assert.deepEqual(errorsOf(text), [
      `health_check_defaults.unhealthy_threshold (line 2): ${hint} (got 0)`,
      `health_check_defaults.healthy_threshold (line 3): ${hint} (got -1)`,
      `backends[0].health_check.healthy_threshold (line 13): ${hint} (got 0)`,
      `backends[0].health_check.unhealthy_threshold (line 14): ${hint} (got 1.5)`,
    ]);
  });

  test('header value with CR/LF or NUL is a config error', () => {
    const text = yaml(
      ...WEB,
      '    protocol: http',
      '    http:',
      '      request_headers:',
      '        X-Ok: "a\\r\\nInjected: 1"',
      '      response_headers:',
      '        X-Nul: "a\\0b"',
      ...POOL,
    );
    assert.deepEqual(errorsOf(text), [
      'frontends[0].http.request_headers.X-Ok (line 8): is not a header value: U+000D at character 2 is a line break: it would end the header line (got "a\\r\\nInjected: 1")',
      'frontends[0].http.response_headers.X-Nul (line 10): is not a header value: U+0000 at character 2 is NUL: no HTTP implementation accepts it in a header (got "a\\u0000b")',
    ]);
  });

  test('invalid header names, set or removed', () => {
    const text = yaml(
      ...WEB,
      '    protocol: http',
      '    http:',
      '      request_headers:',
      '        "X-Bad Name": v',
      '        "X-Split\\nName": v',
      '      remove_response_headers: ["Server", "bad:header"]',
      ...POOL,
    );
    const hint = "must be a valid header name (letters, digits and !#$%&'*+.^_`|~-)";
    assert.deepEqual(errorsOf(text), [
      `frontends[0].http.request_headers["X-Bad Name"] (line 8): header name "X-Bad Name" ${hint}`,
      `frontends[0].http.request_headers["X-Split\\nName"] (line 9): header name "X-Split\\nName" ${hint}`,
      `frontends[0].http.remove_response_headers[1] (line 10): ${hint} (got "bad:header")`,
    ]);
  });

  test('bad route matchers and algorithm', () => {
    const text = yaml(
      ...WEB,
      '    protocol: http',
      '    routes:',
      "      - host: 'api.*'",
      '        backend: pool',
      '      - path_prefix: api/',
      '        backend: pool',
      '      - host: api.example.com',
      '        backend: pool',
      '        algorithm: fastest',
      ...POOL,
    );
    assert.deepEqual(errorsOf(text), [
      'frontends[0].routes[0].host (line 7): must be a host name, or *.suffix (got "api.*")',
      'frontends[0].routes[1].path_prefix (line 9): must start with / (got "api/")',
      'frontends[0].routes[2].algorithm (line 13): must be one of round_robin, weighted, least_connections, ip_hash (got "fastest")',
    ]);
  });

  test('invalid CIDR in trusted_proxies', () => {
    const text = yaml(
      ...WEB,
      '    protocol: http',
      '    http:',
      '      trusted_proxies:',
      '        - 10.0.0.0/8',
      '        - 10.0.0.0/33',
      '        - fd00::/8',
      '        - proxy.local',
      ...POOL,
    );
    const hint = 'must be an IP address or CIDR (10.0.0.0/8, fd00::/8)';
    assert.deepEqual(errorsOf(text), [
      `frontends[0].http.trusted_proxies[1] (line 9): ${hint} (got "10.0.0.0/33")`,
      `frontends[0].http.trusted_proxies[3] (line 11): ${hint} (got "proxy.local")`,
    ]);
  });
});
