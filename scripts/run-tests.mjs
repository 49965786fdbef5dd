#!/usr/bin/env node
// Runs every compiled test file: unit tests of each package (packages/*/dist/test) and the
// end-to-end tests against the real bin/rustlb (test/dist). `npm test` builds first.
// Extra arguments are passed to node --test (e.g. --test-name-pattern=reload).
// Files are listed here rather than directories passed: Node 20 searches a directory for
// tests, Node 22 and later take each argument as a file or glob.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const dirs = readdirSync(join(root, 'packages'))
  .map((p) => join(root, 'packages', p, 'dist', 'test'))
  .concat(join(root, 'test', 'dist'))
  .filter((d) => existsSync(d));
const files = dirs.flatMap((d) =>
  readdirSync(d, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.test.js'))
    .map((f) => join(d, f))
    .sort(),
);
const concurrency = process.env.RUSTLB_TEST_CONCURRENCY ?? '2';
const result = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, '--test-timeout=180000', ...process.argv.slice(2), ...files], {
  stdio: 'inherit',
  cwd: root,
});
process.exit(result.status ?? 1);
