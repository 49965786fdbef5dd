import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { checkValidation, configFile, VALIDATION_BUDGET_MS } from './config-arbitrary.js';

// Issue 19, the fast run (a few seconds): arbitrary values at every key position of the
// schema, arbitrary YAML around them. The long run is `node scripts/fuzz-config.mjs`;
// whether what validates can be applied by a worker is test/config-apply.test.ts.

const RUNS = Number(process.env.RUSTLB_CONFIG_FUZZ_RUNS ?? 300);

test(`validation never throws, refuses with located one-line problems, answers in time (${RUNS} files)`, () => {
  let valid = 0;
  let slowest = 0;
  fc.assert(
    fc.property(configFile, (c) => {
      const { result, ms } = checkValidation(c);
      if (result.ok) valid++;
      slowest = Math.max(slowest, ms);
      // A loaded test machine gets some slack; the long run holds the one-second budget.
      assert.ok(ms < VALIDATION_BUDGET_MS * 3, `validation took ${Math.round(ms)} ms\n${c.story}`);
    }),
    { numRuns: RUNS },
  );
  // The generator is worth something only if some files validate and some do not.
  assert.ok(valid > RUNS / 20, `only ${valid} of ${RUNS} files validated`);
  assert.ok(valid < RUNS, 'every file validated');
});
