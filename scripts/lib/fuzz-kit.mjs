// What the byte fuzzers (scripts/fuzz-http1.mjs, scripts/fuzz-proxy-protocol.mjs) share:
// loading a built module, and `[count] [seed]` from the command line with a reproducible
// random source.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');

/** Imports `path` (relative to the repository) from the build; exits 1 when it was not built. */
export async function loadBuilt(path) {
  const entry = join(root, path);
  if (!existsSync(entry)) {
    console.error(`${entry} is missing: build first (npx tsc -b)`);
    process.exit(1);
  }
  return import(entry);
}

/** `[count] [seed]` of `script` (default 1,000,000 inputs), and xorshift32 draws from the seed. */
export function fuzzArgs(script, defaultSeed) {
  const total = Number(process.argv[2] ?? 1_000_000);
  let seed = Number(process.argv[3] ?? defaultSeed) >>> 0 || 1;
  if (!Number.isInteger(total) || total <= 0) {
    console.error(`usage: ${script} [count] [seed]`);
    process.exit(1);
  }
  const rand = () => {
    seed ^= seed << 13;
    seed >>>= 0;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    seed >>>= 0;
    return seed;
  };
  const below = (n) => rand() % n;
  return { total, root, below, pick: (list) => list[below(list.length)] };
}
