import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HttpState, ProxyTables, TcpState } from '@rustlb/proxy';
import { WorkerMetrics } from '@rustlb/telemetry';
import fc from 'fast-check';
// The generator and the checks are compiled with @rustlb/config's tests (that package may
// not import the proxy, so the proxy is handed in here): loaded from its dist at run time.
import type * as Apply from '../packages/config/dist/test/apply-check.js';
import type * as Arbitrary from '../packages/config/dist/test/config-arbitrary.js';

// Issue 19: what validates can be applied by a worker without an exception. Arbitrary
// files (plausible configurations, arbitrary values at schema positions, arbitrary YAML
// around them); each one that validates is given to the worker's own constructors
// (ProxyTables.build, HttpState, TcpState) and every configured header is rendered with
// every value its variables can take, and checked by the data plane's byte rules.

const dist = new URL('../../packages/config/dist/test/', import.meta.url);
const { applyConfig } = (await import(new URL('apply-check.js', dist).href)) as typeof Apply;
const { checkValidation, configFile } = (await import(new URL('config-arbitrary.js', dist).href)) as typeof Arbitrary;

const RUNS = Number(process.env.RUSTLB_CONFIG_FUZZ_RUNS ?? 200);

test(`every configuration that validates is applied by a worker's constructors (${RUNS} files)`, () => {
  const apply = applyConfig({ ProxyTables, HttpState, TcpState } as unknown as Apply.ProxyModule, new WorkerMetrics());
  let applied = 0;
  fc.assert(
    fc.property(configFile, (c) => {
      const { result } = checkValidation(c);
      if (!result.ok) return;
      apply(result.config);
      applied++;
    }),
    { numRuns: RUNS },
  );
  assert.ok(applied > RUNS / 20, `only ${applied} of ${RUNS} files validated`);
});

test('the header values issue 19 found are refused before a worker sees them; the obs-text ones apply', () => {
  const apply = applyConfig({ ProxyTables, HttpState, TcpState } as unknown as Apply.ProxyModule, new WorkerMetrics());
  const file = (value: string) =>
    [
      'frontends:',
      '  - {name: web, listen: "127.0.0.1:8080", protocol: http, backend: pool,',
      `     http: {request_headers: {X-A: "${value}", X-B: "$backend_name $backend_addr"}, response_headers: {X-C: "${value}"}}}`,
      'backends: [{name: pool, servers: [{address: "127.0.0.1:9001"}, {address: "backend.internal:80"}]}]',
      '',
    ].join('\n');
  for (const bad of ['a\\uffffb', '\\u0100', 'a\\x7fb']) assert.equal(checkValidation({ text: file(bad), story: bad }).result.ok, false, bad);
  const { result } = checkValidation({ text: file('caf\\u00e9 \\t\\xff'), story: 'obs-text' });
  assert.ok(result.ok);
  apply(result.config);
});
