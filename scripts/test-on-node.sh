#!/usr/bin/env bash
# Runs the whole test suite on another Node.js major (engines: >=20.19.0, i.e. 20, 22, 24),
# with that Node fetched from the npm registry as the `node` package when this machine's
# Node is another one. The compiled JavaScript is the same for every version.
#   scripts/test-on-node.sh 24                      # everything
#   scripts/test-on-node.sh 22 test/dist/package.test.js   # some files (node --test arguments)
set -euo pipefail
major="${1:?usage: scripts/test-on-node.sh MAJOR [node --test arguments]}"
shift
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${XDG_CACHE_HOME:-$HOME/.cache}/rustlb/node-$major"
if [ ! -x "$dir/node_modules/.bin/node" ]; then
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-save --no-audit --no-fund "node@$major"
fi
export PATH="$dir/node_modules/.bin:$PATH"
echo "node $(node --version), npm $(npm --version)"
cd "$root"
npx tsc -b
if [ "$#" -gt 0 ]; then
  exec node --test --test-timeout=180000 "$@"
fi
exec node scripts/run-tests.mjs
