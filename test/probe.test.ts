// The external yardstick (issue 4): the http11probe corpus (215 raw-socket HTTP/1.1
// tests, 161 scored) run with --strict against rustlb (2 workers) in front of the
// corpus's own Node target server. Every scored test must pass or warn. The runner speaks
// plain TCP only, so the corpus reaches rustlb's TLS frontend (issue 15) through a small
// bridge here that turns each of its connections into a TLS connection, byte for byte,
// half-closes included.
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type ConnectionOptions, connect as tlsConnect } from 'node:tls';
import { backend, freePorts, frontend, lbConfig, ROOT, RustlbProcess, TestPki } from '@rustlb/testkit';

/** The corpus: the copy in test/fixtures (see its README), or $RUSTLB_HTTP11PROBE. */
const PROBE = process.env.RUSTLB_HTTP11PROBE ?? join(ROOT, 'test', 'fixtures', 'http11probe');

let target: ChildProcess;
let lb: RustlbProcess;
let port: number;
let dir: string;
let pki: TestPki;
let bridge: Server;
let bridgePort: number;

before(async () => {
  assert.ok(existsSync(join(PROBE, 'run.mjs')), `http11probe not found at ${PROBE} (set RUSTLB_HTTP11PROBE)`);
  dir = mkdtempSync(join(tmpdir(), 'rustlb-probe-'));
  const [targetPort, frontPort, tlsPort] = await freePorts(3);
  port = frontPort;
  pki = await TestPki.create();
  const cert = await pki.server({ dns: ['probe.test'], ips: ['127.0.0.1'] });
  bridge = createServer({ allowHalfOpen: true }, (plain: Socket) => {
    // allowHalfOpen (net.Socket's, which TLSSocket honours; not in @types/node's ConnectionOptions): a half-close passes through.
    const secure = tlsConnect({ host: '127.0.0.1', port: tlsPort, servername: 'probe.test', ca: pki.ca.certPem, allowHalfOpen: true } as ConnectionOptions);
    plain.on('error', () => secure.destroy());
    secure.on('error', () => plain.destroy());
    plain.pipe(secure);
    secure.pipe(plain);
    plain.once('close', () => secure.destroy());
    secure.once('close', () => plain.destroy());
  });
  bridgePort = await new Promise<number>((resolve) => bridge.listen(0, '127.0.0.1', () => resolve((bridge.address() as { port: number }).port)));
  target = spawn(process.execPath, [join(PROBE, 'target-server.mjs'), String(targetPort)], { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    target.once('exit', (code) => reject(new Error(`target server exited with ${code}`)));
    target.stderr?.once('data', () => resolve());
  });
  lb = await RustlbProcess.start({
    config: lbConfig({
      global: { access_log: false },
      frontends: [frontend('probe', port, 'app'), frontend('probe-tls', tlsPort, 'app', { tls: { certificates: [{ cert: cert.cert, key: cert.key }] } })],
      backends: [backend('app', [`127.0.0.1:${targetPort}`])],
    }),
  });
});

after(async () => {
  await lb?.dispose();
  target?.kill();
  bridge?.close();
  pki?.dispose();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

interface ProbeResult {
  readonly id: string;
  readonly scored: boolean;
  readonly verdict: string;
  readonly got: string;
  readonly expected: string;
}

/** Runs the corpus against `targetPort`; the summary line and the scored failures. */
async function runProbe(
  targetPort: number,
  name: string,
): Promise<{ code: number; summary: string; bad: string[]; report: { summary: { passed: number; failed: number; errors: number; scored: number } } }> {
  const json = join(dir, `${name}.json`);
  const args = [join(PROBE, 'run.mjs'), '--port', String(targetPort), '--strict', '--concurrency', '24', '--timeout', '2', '--deadline', '40', '--json', json];
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
  return { code, summary, bad, report };
}

test('http11probe --strict: no scored test fails', async () => {
  const { code, summary, bad, report } = await runProbe(port, 'plain');
  console.log(`plain: ${summary}`);
  assert.deepEqual(bad, [], summary);
  assert.equal(code, 0, summary);
  assert.equal(report.summary.scored, 161, summary);
  // What rustlb's own codec passes must not fall below what Node's parser passed (issue 14).
  assert.ok(report.summary.passed >= 145, summary);
});

test('http11probe --strict through the TLS frontend: no scored test fails', async () => {
  const { code, summary, bad, report } = await runProbe(bridgePort, 'tls');
  console.log(`through TLS: ${summary}`);
  assert.deepEqual(bad, [], summary);
  assert.equal(code, 0, summary);
  assert.equal(report.summary.scored, 161, summary);
  assert.ok(report.summary.passed >= 145, summary);
});
