#!/usr/bin/env node
// Micro-benchmark of server selection: picks per second for each algorithm with 2, 10
// and 100 servers, so the hot-path cost of choosing a server is known. Runs against the
// built package (`npx tsc -b` first). Each measurement runs in a fresh process, so one
// algorithm's JIT feedback does not slow the next. Option: --ms=N per measurement (500).
import { execFileSync } from 'node:child_process';
import { ALGORITHMS, createBalancer } from '@rustlb/balancer';

const SIZES = [2, 10, 100];
const msArg = process.argv.find((a) => a.startsWith('--ms='));
const MEASURE_MS = msArg === undefined ? 500 : Number(msArg.slice(5));
const BATCH = 10_000;

function servers(n) {
  return Array.from({ length: n }, (_, i) => ({
    key: `pool/10.0.${i >> 8}.${i & 255}:8080`,
    weight: 1 + (i % 5),
    available: true,
    // least_connections has something to compare: loads as a busy cluster would show.
    localActive: (i * 7) % 5,
    remoteActive: (i * 3) % 11,
  }));
}

// Client addresses vary per request (ip_hash hashes each); a fixed list keeps the cost of
// producing them out of the measurement. One in four is IPv6.
const IPS = Array.from({ length: 4096 }, (_, i) =>
  i % 4 === 3 ? `2001:db8:${((i * 2654435761) >>> 16).toString(16)}::${i.toString(16)}` : `10.${(i >> 8) & 255}.${i & 255}.${(i * 13) & 255}`,
);

/** Picks per second, from repeated batches until MEASURE_MS have passed (after a warm-up). */
function measure(balancer) {
  let sink = 0;
  const run = (count) => {
    for (let i = 0; i < count; i++) sink += balancer.pick(IPS[i & 4095], null)?.weight ?? 0;
  };
  run(100_000);
  let picks = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(MEASURE_MS) * 1_000_000n;
  let now = start;
  while (now < deadline) {
    run(BATCH);
    picks += BATCH;
    now = process.hrtime.bigint();
  }
  if (sink === -1) console.log('unreachable');
  return picks / (Number(now - start) / 1e9);
}

/** Time to build a balancer (ip_hash builds its ring here), in milliseconds, best of 5. */
function buildMs(algorithm, list) {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    createBalancer(algorithm, list, { offset: 1 });
    best = Math.min(best, performance.now() - t);
  }
  return best;
}

const cell = process.argv.find((a) => a.startsWith('--cell='));
if (cell !== undefined) {
  // Child: one measurement, printed as JSON.
  const [algorithm, what] = cell.slice(7).split(',');
  const n = Number(what);
  const result = what === 'build' ? buildMs(algorithm, servers(100)) : measure(createBalancer(algorithm, servers(n), { offset: 1 }));
  process.stdout.write(JSON.stringify(result));
} else {
  const fmt = (n) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M/s` : `${(n / 1e3).toFixed(0)} k/s`);
  const child = (algorithm, what) =>
    JSON.parse(execFileSync(process.execPath, [import.meta.filename, `--cell=${algorithm},${what}`, `--ms=${MEASURE_MS}`], { encoding: 'utf8' }));
  const rows = [];
  for (const algorithm of Object.keys(ALGORITHMS)) {
    const row = { algorithm };
    for (const n of SIZES) row[`${n} servers`] = fmt(child(algorithm, n));
    row['build, 100 servers'] = `${child(algorithm, 'build').toFixed(2)} ms`;
    rows.push(row);
  }
  const headers = Object.keys(rows[0]);
  const widths = headers.map((h) => Math.max(h.length, ...rows.map((r) => r[h].length)));
  const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(`picks per second on one core (node ${process.version}, ${MEASURE_MS} ms per measurement; 1 in 4 clients IPv6)\n`);
  console.log(line(headers));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(headers.map((h) => r[h])));
}
