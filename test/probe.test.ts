// The external yardstick (issue 4): the http11probe corpus (215 raw-socket HTTP/1.1
// tests, 161 scored) run with --strict against rustlb (2 workers) in front of the
// corpus's own Node target server. Every scored test must pass or warn.
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { freePorts, ROOT, RustlbProcess } from '@rustlb/testkit';

/** The corpus: the copy in test/fixtures (see its README), or $RUSTLB_HTTP11PROBE. */
const PROBE = process.env.RUSTLB_HTTP11PROBE ?? join(ROOT, 'test', 'fixtures', 'http11probe');

let target: ChildProcess;
let lb: RustlbProcess;
let port: number;
let dir: string;

before(async () => {
  assert.ok(existsSync(join(PROBE, 'run.mjs')), `http11probe not found at ${PROBE} (set RUSTLB_HTTP11PROBE)`);
  dir = mkdtempSync(join(tmpdir(), 'rustlb-probe-'));
  const [targetPort, frontPort] = await freePorts(2);
  port = frontPort;
  target = spawn(process.execPath, [join(PROBE, 'target-server.mjs'), String(targetPort)], { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    target.once('exit', (code) => reject(new Error(`target server exited with ${code}`)));
    target.stderr?.once('data', () => resolve());
  });
  lb = await RustlbProcess.start({
    config: {
      global: { access_log: false },
      frontends: [{ name: 'probe', listen: `127.0.0.1:${port}`, protocol: 'http', backend: 'app' }],
      backends: [{ name: 'app', servers: [{ address: `127.0.0.1:${targetPort}` }] }],
    },
  });
});

after(async () => {
  await lb?.dispose();
  target?.kill();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

interface ProbeResult {
  readonly id: string;
  readonly scored: boolean;
  readonly verdict: string;
  readonly got: string;
  readonly expected: string;
}

test('http11probe --strict: no scored test fails', async () => {
  const json = join(dir, 'result.json');
  const args = [join(PROBE, 'run.mjs'), '--port', String(port), '--strict', '--concurrency', '24', '--timeout', '2', '--deadline', '40', '--json', json];
  const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve) => {
    execFile(process.execPath, args, { timeout: 50_000, maxBuffer: 16 * 1024 * 1024 }, (err, out) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout: out });
    });
  });
  const summary = stdout.split('\n').find((l) => l.startsWith('http11probe:')) ?? stdout.slice(-2000);
  const report = JSON.parse(readFileSync(json, 'utf8')) as {
    summary: { passed: number; failed: number; errors: number; scored: number };
    results: ProbeResult[];
  };
  const bad = report.results
    .filter((r) => r.scored && (r.verdict === 'Fail' || r.verdict === 'Error'))
    .map((r) => `${r.id}: got ${r.got}, expected ${r.expected}`);
  assert.deepEqual(bad, [], summary);
  assert.equal(code, 0, summary);
  assert.equal(report.summary.scored, 161, summary);
  // What rustlb's own codec passes must not fall below what Node's parser passed (issue 14).
  assert.ok(report.summary.passed >= 145, summary);
});
