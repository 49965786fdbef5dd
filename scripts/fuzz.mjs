#!/usr/bin/env node
// `npm run fuzz [-- args]`: runs every scripts/fuzz-*.mjs in turn with the same arguments
// (e.g. a count); exits 1 when any of them does. Build first (`npx tsc -b`): the fuzzers
// load the compiled packages.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const dir = import.meta.dirname;
const scripts = readdirSync(dir)
  .filter((f) => /^fuzz-.+\.mjs$/.test(f))
  .sort();
let failed = 0;
for (const script of scripts) {
  console.log(`== ${script}`);
  const r = spawnSync(process.execPath, [join(dir, script), ...process.argv.slice(2)], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.log(`${script} failed (exit ${r.status ?? r.signal})`);
    failed++;
  }
}
console.log(`fuzz: ${scripts.length - failed} of ${scripts.length} fuzzers passed`);
process.exit(failed === 0 ? 0 : 1);
