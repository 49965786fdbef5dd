#!/usr/bin/env node
// The long run of the configuration property test (issue 19), against the built packages
// (run `npx tsc -b` first): arbitrary values at every key position of the schema and
// arbitrary YAML around them. Validation must never throw, must refuse with located
// one-line problems, must answer within a second; what validates must be applicable by a
// worker (its proxy tables and HTTP states built, every header rendered to bytes the
// data plane may send).
//
//   node scripts/fuzz-config.mjs [count] [seed]      (default 5000 files, a random seed)
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { applyConfig } from '../packages/config/dist/test/apply-check.js';
import { checkValidation, configFile, VALIDATION_BUDGET_MS } from '../packages/config/dist/test/config-arbitrary.js';

const count = Number(process.argv[2] ?? 5000);
const seed = process.argv[3] === undefined ? Date.now() ^ (Math.random() * 0x100000000) : Number(process.argv[3]);
if (!Number.isSafeInteger(count) || count < 1) {
  process.stderr.write('usage: node scripts/fuzz-config.mjs [count] [seed]\n');
  process.exit(2);
}

const proxy = await import('../packages/proxy/dist/src/index.js').catch(() => null);
const telemetry = await import('../packages/telemetry/dist/src/index.js').catch(() => null);
const apply = proxy !== null && telemetry !== null ? applyConfig(proxy, new telemetry.WorkerMetrics()) : null;
if (apply === null) process.stderr.write('fuzz-config: packages/proxy is not built: checking validation only\n');

let valid = 0;
let applied = 0;
let slowest = 0;
let total = 0;
const started = performance.now();
process.stdout.write(`fuzz-config: ${count} files, seed ${seed}\n`);
try {
  fc.assert(
    fc.property(configFile, (c) => {
      const { result, ms } = checkValidation(c);
      total += ms;
      slowest = Math.max(slowest, ms);
      assert.ok(ms < VALIDATION_BUDGET_MS, `validation took ${Math.round(ms)} ms`);
      if (!result.ok) return;
      valid++;
      if (apply !== null) {
        apply(result.config);
        applied++;
      }
    }),
    { numRuns: count, seed },
  );
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.stderr.write(`fuzz-config: FAILED (seed ${seed}; rerun with: node scripts/fuzz-config.mjs ${count} ${seed})\n`);
  process.exit(1);
}
const seconds = (performance.now() - started) / 1000;
process.stdout.write(
  `fuzz-config: ok: ${count} files in ${seconds.toFixed(1)} s, ${valid} valid (${applied} applied), validation ${(total / count).toFixed(1)} ms on average, ${Math.round(slowest)} ms at most\n`,
);
