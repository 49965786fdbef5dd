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
