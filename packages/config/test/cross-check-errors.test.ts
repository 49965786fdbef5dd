import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { configOf, errorsOf, POOL, warningsOf, yaml } from './problems-of.js';

describe('cross-reference errors name the path and the line', () => {
  test('unknown backend of a frontend, with and without a guess (the SPEC example)', () => {
    const text = yaml(
      'frontends:',
      '  - name: web',
      '    listen: "127.0.0.1:8080"',
      '    backend: pool',
      '  - name: api',
      '    listen: "127.0.0.1:8081"',
      '    backend: pol',
      '',
      'backends:',
      '  - name: pool',
      '    servers:',
      '      - address: "127.0.0.1:9001"',
      '  - name: web',
      '    servers: []',
    );
    assert.deepEqual(errorsOf(text), ['frontends[1].backend (line 7): no backend named "pol" (did you mean "pool"?)']);
    const spec = yaml(
      'global:',
      '  log_level: info',
      '  log_format: json',
      '',
      'frontends:',
      '  - name: web',
      '    listen: "127.0.0.1:8080"',
      '    protocol: http',
      '    backend: pool',
      '',
      '  - name: api',
      '    listen: "127.0.0.1:8081"',
      '    protocol: http',
      '    backend: api',
      '',
      ...POOL,
    );
    assert.deepEqual(errorsOf(spec), ['frontends[1].backend (line 14): no backend named "api"']);
  });

  test('unknown backend of a route', () => {
    const text = yaml(
      'frontends:',
      '  - name: web',
      '    listen: "127.0.0.1:8080"',
      '    protocol: http',
      '    backend: pool',
      '    routes:',
      '      - path_prefix: /api/',
      '        backend: api',
      '      - host: "*.example.com"',
      '        backend: poll',
      ...POOL,
    );
    assert.deepEqual(errorsOf(text), [
      'frontends[0].routes[0].backend (line 8): no backend named "api"',
      'frontends[0].routes[1].backend (line 10): no backend named "poll" (did you mean "pool"?)',
    ]);
  });

  test('duplicate frontend and backend names', () => {
    const text = yaml(
      'frontends:',
      '  - name: web',
      '    listen: "127.0.0.1:8080"',
      '    backend: pool',
      '  - name: web',
      '    listen: "127.0.0.1:8081"',
      '    backend: pool',
      ...POOL,
      '  - name: pool',
      '    servers:',
      '      - address: "127.0.0.1:9002"',
    );
    assert.deepEqual(errorsOf(text), [
      'frontends[1].name (line 5): duplicate frontend name "web" (first at frontends[0], line 2)',
      'backends[1].name (line 12): duplicate backend name "pool" (first at backends[0], line 9)',
    ]);
  });

  test('two frontends on one address, a wildcard included', () => {
    const text = yaml(
      'frontends:',
      '  - name: a',
      '    listen: "127.0.0.1:8080"',
      '    backend: pool',
      '  - name: b',
      '    listen: "127.0.0.1:8080"',
      '    backend: pool',
      '  - name: c',
      '    listen: "0.0.0.0:8080"',
      '    backend: pool',
      '  - name: d',
      '    listen: "[::]:9000"',
      '    backend: pool',
      '  - name: e',
      '    listen: "10.1.2.3:9000"',
      '    backend: pool',
      '  - name: f',
      '    listen: "127.0.0.2:8080"',
      '    backend: pool',
      ...POOL,
    );
    assert.deepEqual(errorsOf(text), [
      'frontends[1].listen (line 6): 127.0.0.1:8080 overlaps frontends[0] (listen 127.0.0.1:8080, line 3): two frontends cannot listen on one address',
      'frontends[2].listen (line 9): 0.0.0.0:8080 overlaps frontends[0] (listen 127.0.0.1:8080, line 3): two frontends cannot listen on one address',
      'frontends[4].listen (line 15): 10.1.2.3:9000 overlaps frontends[3] (listen [::]:9000, line 12): two frontends cannot listen on one address',
      'frontends[5].listen (line 18): 127.0.0.2:8080 overlaps frontends[2] (listen 0.0.0.0:8080, line 9): two frontends cannot listen on one address',
    ]);
  });

  test('different ports or different specific hosts do not collide', () => {
    const text = yaml(
      'frontends:',
      '  - name: a',
      '    listen: "127.0.0.1:8080"',
      '    backend: pool',
      '  - name: b',
      '    listen: "127.0.0.2:8080"',
      '    backend: pool',
      '  - name: c',
      '    listen: "0.0.0.0:8081"',
      '    backend: pool',
      ...POOL,
    );
    assert.deepEqual(
      configOf(text).frontends.map((f) => f.listenText),
      ['127.0.0.1:8080', '127.0.0.2:8080', '0.0.0.0:8081'],
    );
  });

  test('the metrics server may not take a frontend address', () => {
    const text = yaml(
      'global:',
      '  metrics:',
      '    address: "127.0.0.1:8080"',
      'frontends:',
      '  - name: a',
      '    listen: "0.0.0.0:8080"',
      '    backend: pool',
      ...POOL,
    );
    assert.deepEqual(errorsOf(text), ['global.metrics.address (line 3): 127.0.0.1:8080 overlaps frontends[0] (listen 0.0.0.0:8080, line 6)']);
  });

  test('a server listed twice in a backend: a warning (the original ran it), one server with the weights added up', () => {
    const text = yaml(
      'frontends:',
      '  - name: a',
      '    listen: "127.0.0.1:8080"',
      '    backend: pool',
      ...POOL,
      '      - address: "127.0.0.1:9002"',
      '      - address: "127.0.0.1:9001"',
      '        weight: 2',
    );
    assert.deepEqual(warningsOf(text), [
      'backends[0].servers[2].address (line 10): "127.0.0.1:9001" is also servers[0], line 8: it is one server, with the two weights added up',
    ]);
    assert.deepEqual(
      configOf(text).backends[0]?.servers.map((s) => [s.address, s.weight]),
      [
        ['127.0.0.1:9001', 3],
        ['127.0.0.1:9002', 1],
      ],
    );
  });

  test('routes on a tcp frontend (protocol given or defaulted)', () => {
    const text = yaml(
      'frontends:',
      '  - name: a',
      '    listen: "127.0.0.1:8080"',
      '    backend: pool',
      '    routes:',
      '      - path_prefix: /',
      '        backend: pool',
      '  - name: b',
      '    listen: "127.0.0.1:8081"',
      '    protocol: tcp',
      '    backend: pool',
      '    routes:',
      '      - host: a.example.com',
      '        backend: pool',
      ...POOL,
    );
    assert.deepEqual(errorsOf(text), [
      'frontends[0].routes (line 6): routes need protocol: http (this frontend is tcp)',
      'frontends[1].routes (line 13): routes need protocol: http (this frontend is tcp)',
    ]);
  });

  test('route without a matcher', () => {
    const text = yaml(
      'frontends:',
      '  - name: a',
      '    listen: "127.0.0.1:8080"',
      '    protocol: http',
      '    backend: pool',
      '    routes:',
      '      - backend: pool',
      ...POOL,
    );
    assert.deepEqual(errorsOf(text), ['frontends[0].routes[0] (line 7): a route needs at least one of host, path_prefix, methods']);
  });

  test('the same header set twice under two spellings', () => {
    const text = yaml(
      'frontends:',
      '  - name: a',
      '    listen: "127.0.0.1:8080"',
      '    protocol: http',
      '    backend: pool',
      '    http:',
      '      request_headers:',
      '        X-Real-IP: $client_ip',
      '        x-real-ip: $client_port',
      ...POOL,
    );
    assert.deepEqual(errorsOf(text), ['frontends[0].http.request_headers.x-real-ip (line 9): header "x-real-ip" is also set as "X-Real-IP"']);
  });
});

describe('every problem in one run, without cascades', () => {
  test('schema and cross-reference errors of different parts are all listed, in file order', () => {
    const text = yaml(
      'global:',
      '  log_level: verbose',
      'frontends:',
      '  - name: web',
      '    listen: "127.0.0.1:8080"',
      '    backend: api',
      '  - name: web',
      '    listen: "127.0.0.1:8081"',
      '    algorithm: fastest',
      '    backend: pool',
      '  - name: tcp',
      '    listen: "127.0.0.1:8080"',
      '    backend: pool',
      'backends:',
      '  - name: pool',
      '    servers:',
      '      - address: "127.0.0.1:9001"',
      '        weight: 0',
      '      - address: "127.0.0.1"',
    );
    assert.deepEqual(errorsOf(text), [
      'global.log_level (line 2): must be one of trace, debug, info, warn, error (got "verbose")',
      'frontends[0].backend (line 6): no backend named "api"',
      'frontends[1].name (line 7): duplicate frontend name "web" (first at frontends[0], line 4)',
      'frontends[1].algorithm (line 9): must be one of round_robin, weighted, least_connections, ip_hash (got "fastest")',
      'frontends[2].listen (line 12): 127.0.0.1:8080 overlaps frontends[0] (listen 127.0.0.1:8080, line 5): two frontends cannot listen on one address',
      'backends[0].servers[0].weight (line 18): must be a whole number from 1 to 4294967295 (0 would never be picked: leave such a server out, or drain it with rustlb-ctl) (got 0)',
      'backends[0].servers[1].address (line 19): "127.0.0.1" has no port (expected host:port, e.g. 127.0.0.1:8080 or [::1]:8080)',
    ]);
  });

  test('a backend without a readable name does not make every reference "unknown"', () => {
    const text = yaml(
      'frontends:',
      '  - name: web',
      '    listen: "127.0.0.1:8080"',
      '    backend: api',
      'backends:',
      '  - nme: api',
      '    servers:',
      '      - address: "127.0.0.1:9001"',
    );
    assert.deepEqual(errorsOf(text), ['backends[0].name (line 6): is required', 'backends[0].nme (line 6): unknown key "nme" (did you mean "name"?)']);
  });

  test('a backend whose name breaks the schema still counts as declared', () => {
    const text = yaml(
      'frontends:',
      '  - name: web',
      '    listen: "127.0.0.1:8080"',
      '    backend: "my\\x01pool"',
      '  - name: other',
      '    listen: "127.0.0.1:8081"',
      '    backend: nowhere',
      'backends:',
      '  - name: "my\\x01pool"',
      '    servers:',
      '      - address: "127.0.0.1:9001"',
    );
    assert.deepEqual(errorsOf(text), [
      `frontends[0].backend (line 4): must be a name without control characters (names go into log lines, metric labels and rustlb-ctl's output, where one could forge a line) (got "my\\u0001pool")`,
      'frontends[1].backend (line 7): no backend named "nowhere"',
      `backends[0].name (line 9): must be a name without control characters (names go into log lines, metric labels and rustlb-ctl's output, where one could forge a line) (got "my\\u0001pool")`,
    ]);
  });

  test('a malformed listen is not also reported as a collision, a malformed server not as a duplicate', () => {
    const text = yaml(
      'frontends:',
      '  - name: a',
      '    listen: "127.0.0.1:8080"',
      '    backend: pool',
      '  - name: b',
      '    listen: "127.0.0.1:8080:1"',
      '    backend: pool',
      'backends:',
      '  - name: pool',
      '    servers:',
      '      - address: "127.0.0.1:0"',
      '      - address: "127.0.0.1:0"',
    );
    assert.deepEqual(errorsOf(text), [
      'frontends[1].listen (line 6): "127.0.0.1:8080:1" is not host:port (expected host:port, e.g. 127.0.0.1:8080 or [::1]:8080)',
      'backends[0].servers[0].address (line 11): port 0 is out of range: use 1-65535',
      'backends[0].servers[1].address (line 12): port 0 is out of range: use 1-65535',
    ]);
  });

  test('a broken backends section does not turn every frontend reference into an error', () => {
    const text = yaml('frontends:', '  - name: a', '    listen: "127.0.0.1:8080"', '    backend: pool', 'backends:', '  name: pool');
    assert.deepEqual(errorsOf(text), ['backends (line 6): must be a list (got a mapping)']);
  });
});
