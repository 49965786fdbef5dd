// Issue 15, the configuration side of TLS: the primary reads the certificate and key files
// (at --validate, start and every reload), reports their problems with the config path and
// line, serves their expiry as a metric and in rustlb-ctl status, reloads when a file
// changes (in place, or by a Kubernetes Secret's `..data` symlink swap), keeps the old
// configuration when a new key is broken, and never writes a private key anywhere.
// Handshakes are the data plane's tests.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  type CertFiles,
  ConfigMapVolume,
  control,
  freePort,
  get,
  type HttpUpstream,
  metricValue,
  RustlbProcess as Rustlb,
  type RustlbProcess,
  runCtl,
  runRustlb,
  saveByRename,
  startHttpUpstream,
  TestPki,
  waitFor,
  webPool,
} from '@rustlb/testkit';

const EXPIRY = 'rustlb_tls_certificate_expiry_timestamp_seconds';

let pki: TestPki;
let upstream: HttpUpstream;
let www: CertFiles;
let www2: CertFiles;
let api2: CertFiles;
let api: CertFiles;
let expired: CertFiles;
let client: CertFiles;
/** Every key made: none may show in any output. */
const keys: string[] = [];

const keyBody = (pem: string) =>
  pem
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('-----'))
    .join('');

/** Fails when any private key (or a 32-character piece of one) is in `text`. */
function assertNoKey(text: string, where: string): void {
  for (const key of keys) {
    const body = keyBody(key);
    assert.ok(body.length > 40);
    for (const piece of body.match(/.{32}/g) ?? []) assert.ok(!text.includes(piece), `a private key is in ${where}`);
  }
}

const notAfterSeconds = (c: CertFiles) => Math.floor(Date.parse(new X509Certificate(c.certPem).validTo) / 1000);
const fingerprint = (c: CertFiles) => new X509Certificate(c.certPem).fingerprint256;

before(async () => {
  pki = await TestPki.create();
  upstream = await startHttpUpstream('tls-config');
  // Different lifetimes: the expiry metric tells them apart.
  www = await pki.server({ dns: ['www.example.com', 'example.com'], days: 300, name: 'www' });
  www2 = await pki.server({ dns: ['www.example.com'], days: 200, name: 'www2' });
  api2 = await pki.server({ dns: ['api.example.com'], days: 100, name: 'api2' });
  api = await pki.server({ dns: ['api.example.com'], days: 90, name: 'api' });
  expired = await pki.expired(['old.example.com'], 'old');
  client = await pki.client();
  keys.push(...[www, www2, api2, api, expired, client, pki.ca].map((c) => c.keyPem));
});

after(async () => {
  await upstream?.close();
  pki?.dispose();
});

function tlsConfig(port: number, certificates: { cert: string; key: string }[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return webPool(port, [upstream.address], { frontend: { tls: { certificates }, ...extra }, backend: { tls: { enabled: false } } });
}

async function generation(lb: RustlbProcess): Promise<number> {
  return (await control<{ generation: number }>(lb.socket, 'status')).generation;
}

async function statusCertificates(lb: RustlbProcess): Promise<{ frontend: string; names: string[]; notAfter: string; fingerprint: string; file: string }[]> {
  const r = await lb.ctl(['status', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assertNoKey(r.stdout, 'rustlb-ctl status --json');
  return (JSON.parse(r.stdout) as { certificates: never[] }).certificates;
}

/** Everything the daemon wrote and answered so far, checked for keys. */
async function assertNothingLeaked(lb: RustlbProcess): Promise<void> {
  assertNoKey(JSON.stringify(lb.logs), 'the log');
  assertNoKey(lb.stderr, 'stderr');
  assertNoKey(lb.strayLines.join('\n'), 'stdout');
  const text = await lb.ctl(['status']);
  assertNoKey(text.stdout + text.stderr, 'rustlb-ctl status');
  assertNoKey(await lb.metrics(), '/metrics');
  const page = await get(lb.metricsPort, { path: '/status.json', timeoutMs: 5000 });
  assert.equal(page.status, 200);
  assertNoKey(page.text, '/status.json');
}

describe('rustlb --validate', () => {
  let dir: string;
  before(() => {
    dir = join(pki.dir, 'validate');
    mkdirSync(dir, { recursive: true });
  });

  test('a missing file and a key that does not match exit 2 with their locations', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      [
        'frontends:', // 1
        '  - name: web', // 2
        '    listen: 127.0.0.1:8443', // 3
        '    backend: pool', // 4
        '    tls:', // 5
        '      certificates:', // 6
        '        - cert: missing.crt', // 7
        `          key: ${www.key}`, // 8
        `        - cert: ${api.cert}`, // 9
        `          key: ${www.key}`, // 10
        'backends:',
        '  - name: pool',
        '    servers: [{ address: 127.0.0.1:9001 }]',
        '    tls:', // 14
        `      key: ${client.key}`, // 15
        '',
      ].join('\n'),
    );
    const started = performance.now();
    const r = await runRustlb(['--validate', '--config', file]);
    assert.ok(performance.now() - started < 5000);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /invalid configuration .* \(3 errors\)/);
    assert.ok(
      r.stderr.includes(`frontends[0].tls.certificates[0].cert (line 7): cannot read "missing.crt" (${join(dir, 'missing.crt')}): no such file`),
      r.stderr,
    );
    assert.ok(r.stderr.includes('frontends[0].tls.certificates[1].key (line 10): '), r.stderr);
    assert.match(r.stderr, /is not the private key of the certificate in/);
    assert.ok(r.stderr.includes('backends[0].tls.key (line 15): needs cert too'), r.stderr);
    assertNoKey(r.stdout + r.stderr, 'rustlb --validate');
    // rustlb-ctl validate answers the same (its exit code for a refusal is 1).
    const ctl = await runCtl(['validate', file]);
    assert.equal(ctl.code, 1, ctl.stderr);
    assert.ok((ctl.stdout + ctl.stderr).includes('frontends[0].tls.certificates[0].cert (line 7)'), ctl.stdout + ctl.stderr);
  });

  test('an expired certificate and a key others may read are warnings, with the date; the summary shows names and fingerprints, not keys', async () => {
    const loose = join(dir, 'loose.key');
    copyFileSync(www.key, loose);
    chmodSync(loose, 0o644);
    const file = join(dir, 'warn.yaml');
    writeFileSync(
      file,
      [
        'frontends:',
        '  - name: web',
        '    listen: 127.0.0.1:8443',
        '    protocol: http',
        '    backend: pool',
        '    tls:',
        '      certificates:',
        `        - cert: ${www.cert}`, // 8
        '          key: loose.key', // 9
        `        - cert: ${expired.cert}`, // 10
        `          key: ${expired.key}`,
        'backends:',
        '  - name: pool',
        '    servers: [{ address: 127.0.0.1:9001 }]',
        '',
      ].join('\n'),
    );
    const r = await runRustlb(['--validate', '--config', file]);
    assert.equal(r.code, 0, r.stderr);
    const date = new Date(notAfterSeconds(expired) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    assert.ok(r.stderr.includes(`warning: frontends[0].tls.certificates[1].cert (line 10): the certificate in "${expired.cert}" expired on ${date}`), r.stderr);
    assert.ok(
      r.stderr.includes('warning: frontends[0].tls.certificates[0].key (line 9): "loose.key" may be read by its group or others (mode 0644)'),
      r.stderr,
    );
    assert.ok(r.stdout.includes(`www.example.com, example.com: valid until `), r.stdout);
    assert.ok(r.stdout.includes(fingerprint(www)), r.stdout);
    assertNoKey(r.stdout + r.stderr, 'rustlb --validate');
  });
});

describe('a running rustlb with a TLS frontend', () => {
  let lb: RustlbProcess;
  let certDir: string;
  let secret: ConfigMapVolume;
  let port: number;

  before(async () => {
    // One certificate in a plain directory (replaced in place), one in a Secret volume (swapped by symlink).
    certDir = join(pki.dir, 'plain');
    mkdirSync(certDir, { recursive: true });
    copyFileSync(www.cert, join(certDir, 'www.crt'));
    copyFileSync(www.key, join(certDir, 'www.key'));
    chmodSync(join(certDir, 'www.key'), 0o600);
    secret = new ConfigMapVolume(join(pki.dir, 'secret'));
    secret.write({ 'tls.crt': api.certPem, 'tls.key': api.keyPem });
    port = await freePort();
    lb = await Rustlb.start({
      config: tlsConfig(port, [
        { cert: join(certDir, 'www.crt'), key: join(certDir, 'www.key') },
        { cert: join(secret.dir, 'tls.crt'), key: join(secret.dir, 'tls.key') },
      ]),
      workers: 1,
    });
  });

  after(async () => {
    await lb?.dispose();
  });

  test('it starts; the expiry metric and rustlb-ctl status show each certificate', async () => {
    // The start-up check for a change during start-up counts the files too: nothing changed, no reload.
    await lb.waitForLog((l) => l.msg === 'watching the configuration file', 'the watch');
    assert.equal(await generation(lb), 1);
    const metrics = await lb.metrics();
    assert.match(metrics, new RegExp(`^# TYPE ${EXPIRY} gauge$`, 'm'));
    assert.equal(metricValue(metrics, EXPIRY, { frontend: 'web', name: 'www.example.com' }), notAfterSeconds(www));
    assert.equal(metricValue(metrics, EXPIRY, { frontend: 'web', name: 'api.example.com' }), notAfterSeconds(api));
    const certs = await statusCertificates(lb);
    assert.deepEqual(
      certs.map((c) => ({ ...c })),
      [
        {
          frontend: 'web',
          names: ['www.example.com', 'example.com'],
          notAfter: new Date(notAfterSeconds(www) * 1000).toISOString(),
          fingerprint: fingerprint(www),
          file: join(certDir, 'www.crt'),
        },
        {
          frontend: 'web',
          names: ['api.example.com'],
          notAfter: new Date(notAfterSeconds(api) * 1000).toISOString(),
          fingerprint: fingerprint(api),
          file: join(secret.dir, 'tls.crt'),
        },
      ],
    );
    const text = await lb.ctl(['status']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^certificates:$/m);
    assert.match(
      text.stdout,
      new RegExp(
        `^\\s+web\\s+www\\.example\\.com,example\\.com\\s+${new Date(notAfterSeconds(www) * 1000).toISOString()}\\s+${fingerprint(www)}\\s+${join(certDir, 'www.crt')}$`,
        'm',
      ),
    );
    await assertNothingLeaked(lb);
  });

  test('a certificate and key replaced in place reload the configuration: generation, metric and status follow', async () => {
    const gen = await generation(lb);
    // The key first: a moment with the new key and the old certificate is refused, then the certificate completes the pair.
    saveByRename(join(certDir, 'www.key'), www2.keyPem);
    saveByRename(join(certDir, 'www.crt'), www2.certPem);
    await waitFor(async () => (await statusCertificates(lb))[0]?.fingerprint === fingerprint(www2), 'the new certificate in rustlb-ctl status', 15_000);
    assert.ok((await generation(lb)) > gen);
    assert.equal(metricValue(await lb.metrics(), EXPIRY, { frontend: 'web', name: 'www.example.com' }), notAfterSeconds(www2));
    const reload = await waitFor(
      () => lb.logs.find((l) => l.msg === 'configuration reloaded' && JSON.stringify(l.changes).includes('certificate www.example.com')),
      'the reload log line',
    );
    assert.ok((reload.changes as string[]).includes('frontend web changed'), JSON.stringify(reload.changes));
    // The workers run the new generation.
    await waitFor(async () => {
      const s = await control<{ generation: number; workers: { generation: number }[] }>(lb.socket, 'status');
      return s.workers.every((w) => w.generation === s.generation);
    }, 'the workers to apply the new generation');
    await assertNothingLeaked(lb);
  });

  test('a Kubernetes Secret update (the ..data symlink swap) reloads the configuration', async () => {
    const gen = await generation(lb);
    secret.write({ 'tls.crt': api2.certPem, 'tls.key': api2.keyPem });
    await waitFor(async () => (await statusCertificates(lb))[1]?.fingerprint === fingerprint(api2), 'the swapped certificate in rustlb-ctl status', 15_000);
    assert.equal(await generation(lb), gen + 1);
    assert.equal(metricValue(await lb.metrics(), EXPIRY, { frontend: 'web', name: 'api.example.com' }), notAfterSeconds(api2));
    await assertNothingLeaked(lb);
  });

  test('a reload with a broken key keeps the old configuration, says where, and writes no key', async () => {
    const gen = await generation(lb);
    const before = await statusCertificates(lb);
    const rejected = lb.logs.filter((l) => l.msg === 'configuration rejected; the old one stays in force').length;
    // A valid key, of another certificate.
    saveByRename(join(certDir, 'www.key'), api.keyPem);
    const line = await waitFor(
      () => lb.logs.filter((l) => l.msg === 'configuration rejected; the old one stays in force')[rejected],
      'the rejection log line',
      15_000,
    );
    assert.match(JSON.stringify(line.errors), /frontends\[0\]\.tls\.certificates\[0\]\.key \(line \d+\): .*is not the private key of the certificate/);
    assert.equal(await generation(lb), gen);
    assert.deepEqual(await statusCertificates(lb), before);
    // rustlb-ctl reload answers the same refusal.
    const r = await lb.ctl(['reload']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /is not the private key of the certificate/);
    assertNoKey(r.stdout + r.stderr, 'rustlb-ctl reload');
    // Fixed: accepted again.
    saveByRename(join(certDir, 'www.key'), www2.keyPem);
    await waitFor(async () => (await generation(lb)) === gen + 1, 'the fixed key to be accepted', 15_000);
    await assertNothingLeaked(lb);
  });
  test('a reload naming a certificate in another directory (below the configuration file) watches it from then on', async () => {
    const moved = join(lb.dir, 'tls');
    mkdirSync(moved, { recursive: true });
    copyFileSync(www2.cert, join(moved, 'www.crt'));
    copyFileSync(www2.key, join(moved, 'www.key'));
    chmodSync(join(moved, 'www.key'), 0o600);
    const gen = await generation(lb);
    lb.writeConfig(tlsConfig(port, [{ cert: join(moved, 'www.crt'), key: join(moved, 'www.key') }]));
    await waitFor(async () => (await statusCertificates(lb))[0]?.file === join(moved, 'www.crt'), 'the moved certificate in force', 15_000);
    assert.equal(await generation(lb), gen + 1);
    saveByRename(join(moved, 'www.key'), www.keyPem);
    saveByRename(join(moved, 'www.crt'), www.certPem);
    await waitFor(async () => (await statusCertificates(lb))[0]?.fingerprint === fingerprint(www), 'the renewal in the new directory', 15_000);
    await assertNothingLeaked(lb);
  });
});

describe('without TLS', () => {
  test('no expiry metric family and no certificates in status', async () => {
    const port = await freePort();
    const lb = await Rustlb.start({
      config: webPool(port, [upstream.address]),
      workers: 1,
    });
    try {
      assert.doesNotMatch(await lb.metrics(), new RegExp(EXPIRY));
      assert.deepEqual(await statusCertificates(lb), []);
      assert.doesNotMatch((await lb.ctl(['status'])).stdout, /certificates:/);
    } finally {
      await lb.dispose();
    }
  });
});
