import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { formatProblem, loadConfigFile } from '../src/index.js';

const EXAMPLES = new URL('../../../../config/examples/', import.meta.url);

// SHA-256 of the original's example files (../shared/seed/examples/): the copies must stay
// byte-identical, so users' copies of them keep validating unchanged.
const ORIGINALS: Readonly<Record<string, string>> = {
  'annotated-defaults.yaml': 'ea710d5350738e4127db3d69205da4bb1b68b2ecef4658d26613323ce7c81daf',
  'full-featured.yaml': 'ae40de426b66761f77543901bd75da2ce78dc4e58e3d22d4d2c2811d985d46f2',
  'simple.yaml': '0ee74672872125fa3f3aa9af3ae20cf4b3430578e66172df9b47c2002f95a231',
  'tcp-proxy.yaml': 'f02b6db0083ee456f7e01c2e1ff6e99f75bdb4bec65878c28aea17acf3ca1204',
  'weighted.yaml': 'e7246cc00a3b6ca5787d5fc67f8ecf50f6b205d9cdcafaae6d5e86b05f8eefad',
};

test('config/examples holds exactly the five original examples', () => {
  const yamls = readdirSync(EXAMPLES)
    .filter((f) => f.endsWith('.yaml'))
    .sort();
  assert.deepEqual(yamls, Object.keys(ORIGINALS).sort());
});

for (const [name, sha256] of Object.entries(ORIGINALS)) {
  test(`${name} is the original, byte for byte, and validates`, async () => {
    const url = new URL(name, EXAMPLES);
    assert.equal(createHash('sha256').update(readFileSync(url)).digest('hex'), sha256);
    const r = await loadConfigFile(url.pathname);
    assert.deepEqual(r.ok ? [] : r.errors.map(formatProblem), []);
    assert.deepEqual(r.warnings.map(formatProblem), []);
  });
}

// Every configuration in the original's documentation (its README.md, docs/CONFIGURATION.md
// and docs/example-config.yaml; fragments completed with a frontend or a backend as their
// file names say): each validates, with a warning only where rustlb reads it differently.
const ORIGINAL_DOCS = new URL('../../test/fixtures/original-docs/', import.meta.url);
const DOC_WARNINGS: Readonly<Record<string, readonly string[]>> = {
  // The original ignored these too (its HTTP proxy connects with a fixed 10 s).
  'configuration-frontends.yaml': ['frontends[0].tcp (line 15): tcp settings are ignored on an http frontend (use http.timeouts)'],
};

test("the original's documented configurations are all here", () => {
  const yamls = readdirSync(ORIGINAL_DOCS).filter((f) => f.endsWith('.yaml'));
  assert.equal(yamls.length, 12);
});

for (const name of readdirSync(ORIGINAL_DOCS)
  .filter((f) => f.endsWith('.yaml'))
  .sort()) {
  test(`the original's documentation: ${name} validates`, async () => {
    const r = await loadConfigFile(new URL(name, ORIGINAL_DOCS).pathname);
    assert.deepEqual(r.ok ? [] : r.errors.map(formatProblem), []);
    assert.deepEqual(r.warnings.map(formatProblem), DOC_WARNINGS[name] ?? []);
  });
}

test('a file using what the original accepted and rustlb once refused validates, with a warning where rustlb reads it differently', async () => {
  const r = await loadConfigFile(new URL('../original-quirks.yaml', ORIGINAL_DOCS).pathname);
  assert.deepEqual(r.ok ? [] : r.errors.map(formatProblem), []);
  assert.deepEqual(r.warnings.map(formatProblem), [
    'backends[0].servers[2].address (line 29): "10.0.0.1:8000" is also servers[0], line 25: it is one server, with the two weights added up',
    'backends[0].health_check.expected_status (line 34): 700 is not a status HTTP defines (100-599): only a server that sends it is healthy',
  ]);
  if (!r.ok) return;
  assert.equal(r.config.global.logLevel, 'warn');
  assert.equal(r.config.global.metrics.probes, false);
  assert.equal(r.config.frontends[0]?.name, 'public web');
  assert.equal(r.config.healthCheckDefaults.intervalMs, 90_000);
  assert.equal(r.config.backends[0]?.servers[0]?.weight, 5001);
});
