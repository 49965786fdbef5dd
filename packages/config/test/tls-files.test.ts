import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type CertFiles, TestPki } from '@rustlb/testkit';
import { diffConfig, formatProblem, summarize, type ValidationResult, validateConfigFile, validateConfigText } from '../src/index.js';

// The certificate, key and CA files of frontends' and backends' tls: read by the primary,
// checked, every problem located at the key naming the file (path and line).

let pki: TestPki;
let www: CertFiles;
let api: CertFiles;
let expired: CertFiles;
let future: CertFiles;
let cnOnly: CertFiles;
let client: CertFiles;
let dir: string;
/** The config file every test writes (in the PKI's directory: relative paths are relative to it). */
let file: string;

/** The base64 body of a PEM key: what must never appear in any output. */
const keyBody = (pem: string) =>
  pem
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('-----'))
    .join('');

before(async () => {
  pki = await TestPki.create();
  dir = pki.dir;
  file = join(dir, 'rustlb.yaml');
  www = await pki.server({ dns: ['www.example.com', '*.Example.com'], ips: ['127.0.0.1'], name: 'www' });
  api = await pki.server({ dns: ['api.example.com'], name: 'api' });
  expired = await pki.expired(['old.example.com'], 'old');
  future = await pki.server({ dns: ['soon.example.com'], notBefore: new Date(Date.now() + 10 * 86_400_000), days: 30, name: 'soon' });
  cnOnly = await pki.server({ cnOnly: 'legacy.example.com', name: 'legacy' });
  client = await pki.client('rustlb');
});
after(() => pki?.dispose());

const rel = (f: string) => f.slice(dir.length + 1);

/** A configuration with one http frontend whose tls block is `tls` (lines 7 on), and a backend. */
function withTls(tls: string[], backendExtra: string[] = [], frontendExtra: string[] = []): string {
  return [
    'frontends:', // 1
    '  - name: web', // 2
    '    listen: 127.0.0.1:8443', // 3
    '    protocol: http', // 4
    '    backend: pool', // 5
    ...frontendExtra,
    ...(tls.length === 0 ? [] : ['    tls:', ...tls.map((l) => `      ${l}`)]),
    'backends:',
    '  - name: pool',
    '    servers:',
    '      - address: 127.0.0.1:9001',
    ...backendExtra,
    '',
  ].join('\n');
}

const certs = (...pairs: [string, string][]) => ['certificates:', ...pairs.flatMap(([c, k]) => [`  - cert: ${c}`, `    key: ${k}`])];

function validate(text: string): ValidationResult {
  writeFileSync(file, text);
  return validateConfigText(text, file);
}

function errors(text: string): string[] {
  const r = validate(text);
  assert.equal(r.ok, false, 'refused');
  return r.ok ? [] : r.errors.map(formatProblem);
}

function warnings(text: string): string[] {
  const r = validate(text);
  assert.equal(r.ok, true, r.ok ? '' : r.errors.map(formatProblem).join('\n'));
  return r.warnings.map(formatProblem);
}

describe('a valid TLS configuration', () => {
  test('frontends get the PEM, names (SAN DNS, lower-cased), notAfter and fingerprint; paths relative to the config file', () => {
    const r = validate(withTls([...certs([rel(www.cert), rel(www.key)], [api.cert, api.key])], [], ['    proxy_protocol: accept']));
    assert.ok(r.ok, r.ok ? '' : r.errors.map(formatProblem).join('\n'));
    assert.deepEqual(r.warnings, []);
    const tls = r.config.frontends[0]?.tls;
    assert.ok(tls !== null && tls !== undefined);
    assert.equal(tls.minVersion, 'TLSv1.2');
    assert.equal(tls.ciphers, null);
    assert.deepEqual(tls.alpn, ['http/1.1']);
    const [first, second] = tls.certificates;
    assert.ok(first !== undefined && second !== undefined);
    assert.deepEqual(first.names, ['www.example.com', '*.example.com']);
    assert.equal(first.certFile, www.cert);
    assert.equal(first.keyFile, www.key);
    assert.equal(first.certPem, www.certPem);
    assert.equal(first.keyPem, www.keyPem);
    const x509 = new X509Certificate(www.certPem);
    assert.equal(first.fingerprint, x509.fingerprint256);
    assert.equal(first.notAfterMs, Date.parse(x509.validTo));
    assert.deepEqual(second.names, ['api.example.com']);
    assert.equal(r.config.frontends[0]?.proxyProtocol, true);
    assert.equal(r.config.backends[0]?.tls, null);
    assert.equal(r.config.backends[0]?.sendProxy, null);
  });

  test('a certificate without subjectAltName is named by its CN; tcp frontends offer no ALPN by default; settings are read', () => {
    const text = withTls(['min_version: TLSv1.3', 'ciphers: ECDHE+AESGCM', 'alpn: [h2, http/1.1]', ...certs([rel(cnOnly.cert), rel(cnOnly.key)])]).replace(
      'protocol: http',
      'protocol: tcp',
    );
    const r = validate(text);
    assert.ok(r.ok, r.ok ? '' : r.errors.map(formatProblem).join('\n'));
    const tls = r.config.frontends[0]?.tls;
    assert.deepEqual(tls?.certificates[0]?.names, ['legacy.example.com']);
    assert.equal(tls?.minVersion, 'TLSv1.3');
    assert.equal(tls?.ciphers, 'ECDHE+AESGCM');
    assert.deepEqual(tls?.alpn, ['h2', 'http/1.1']);
    const tcp = validate(withTls(certs([rel(www.cert), rel(www.key)])).replace('protocol: http', 'protocol: tcp'));
    assert.ok(tcp.ok);
    assert.deepEqual(tcp.config.frontends[0]?.tls?.alpn, []);
  });

  test('backends: tls with its defaults, a CA, a servername, a client certificate; send_proxy', () => {
    const bare = validate(withTls([], ['    tls: {}', '    send_proxy: v1']));
    assert.ok(bare.ok, bare.ok ? '' : bare.errors.map(formatProblem).join('\n'));
    assert.deepEqual(bare.config.backends[0]?.tls, {
      verify: true,
      caPem: null,
      caFile: null,
      servername: null,
      certPem: null,
      keyPem: null,
      certFile: null,
      keyFile: null,
    });
    assert.equal(bare.config.backends[0]?.sendProxy, 'v1');
    assert.equal(bare.config.frontends[0]?.tls, null);
    const full = validate(
      withTls(
        [],
        [
          '    send_proxy: v2',
          '    tls:',
          '      verify: false',
          `      ca: ${rel(pki.ca.cert)}`,
          '      servername: api.internal',
          `      cert: ${rel(client.cert)}`,
          `      key: ${rel(client.key)}`,
        ],
      ),
    );
    assert.ok(full.ok, full.ok ? '' : full.errors.map(formatProblem).join('\n'));
    const t = full.config.backends[0]?.tls;
    assert.equal(t?.verify, false);
    assert.equal(t?.caPem, pki.ca.certPem);
    assert.equal(t?.caFile, pki.ca.cert);
    assert.equal(t?.servername, 'api.internal');
    assert.equal(t?.certPem, client.certPem);
    assert.equal(t?.keyPem, client.keyPem);
    assert.equal(full.config.backends[0]?.sendProxy, 'v2');
    assert.deepEqual(full.warnings.map(formatProblem), ['backends[0].tls.ca (line 13): is not used: verify is false, so any server certificate is accepted']);
    const off = validate(withTls([], ['    tls:', '      enabled: false', '      ca: no-such-file.pem']));
    assert.ok(off.ok, 'a disabled tls block reads no file');
    assert.equal(off.config.backends[0]?.tls, null);
  });

  test('the asynchronous read gives the same result; the digest follows the files and matches the configuration', async () => {
    const text = withTls(certs([rel(www.cert), rel(www.key)]), ['    tls:', `      ca: ${rel(pki.ca.cert)}`]);
    const sync = validate(text);
    const async_ = await validateConfigFile(text, file);
    assert.deepEqual(async_, sync);
    assert.ok(sync.ok && sync.filesDigest !== undefined);
    // The same names, another content: another digest.
    const sub = join(dir, 'rotated');
    mkdirSync(sub, { recursive: true });
    copyFileSync(www.cert, join(sub, 'tls.crt'));
    copyFileSync(www.key, join(sub, 'tls.key'));
    chmodSync(join(sub, 'tls.key'), 0o600);
    const rotatedText = withTls(certs(['rotated/tls.crt', 'rotated/tls.key']));
    const before = validate(rotatedText);
    copyFileSync(api.cert, join(sub, 'tls.crt'));
    copyFileSync(api.key, join(sub, 'tls.key'));
    const after = validate(rotatedText);
    assert.ok(before.ok && after.ok);
    assert.notEqual(before.filesDigest, after.filesDigest);
    const d = diffConfig(before.config, after.config);
    assert.deepEqual(d.changedFrontends, ['web']);
    assert.equal(d.changedCertificates.length, 1);
    assert.match(d.changedCertificates[0] as string, /^frontend web: certificate api\.example\.com [0-9A-F:]+… -> [0-9A-F:]+…$/);
    assert.equal(validate(withTls([])).ok && validate(withTls([])).filesDigest, undefined);
  });
});

describe('errors: located at the key naming the file', () => {
  test('a missing file, a directory', () => {
    assert.deepEqual(errors(withTls(certs(['missing.crt', rel(www.key)]))), [
      `frontends[0].tls.certificates[0].cert (line 8): cannot read "missing.crt" (${join(dir, 'missing.crt')}): no such file`,
    ]);
    assert.deepEqual(errors(withTls(certs([rel(www.cert), '.']))), [`frontends[0].tls.certificates[0].key (line 9): cannot read "." (${dir}): is a directory`]);
  });

  test('not PEM; cert and key swapped', () => {
    writeFileSync(join(dir, 'garbage.crt'), 'hello\n');
    assert.deepEqual(errors(withTls(certs(['garbage.crt', rel(www.key)]))), [
      'frontends[0].tls.certificates[0].cert (line 8): "garbage.crt" holds no PEM certificate (-----BEGIN CERTIFICATE-----): it must hold the certificate as PEM',
    ]);
    assert.deepEqual(errors(withTls(certs([rel(www.key), rel(www.cert)]))), [
      `frontends[0].tls.certificates[0].cert (line 8): "${rel(www.key)}" holds no PEM certificate (-----BEGIN CERTIFICATE-----): it must hold the certificate as PEM (it holds a private key: are cert and key swapped?)`,
      `frontends[0].tls.certificates[0].key (line 9): "${rel(www.cert)}" holds no PEM private key (-----BEGIN PRIVATE KEY-----) (it holds a certificate: are cert and key swapped?)`,
    ]);
    writeFileSync(join(dir, 'broken.crt'), '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    assert.deepEqual(errors(withTls(certs(['broken.crt', rel(www.key)]))), [
      'frontends[0].tls.certificates[0].cert (line 8): "broken.crt": certificate 1 of 1 is not a valid PEM certificate',
    ]);
  });

  test('a key that does not match its certificate', () => {
    assert.deepEqual(errors(withTls(certs([rel(www.cert), rel(www.key)], [rel(api.cert), rel(www.key)]))), [
      `frontends[0].tls.certificates[1].key (line 11): "${rel(www.key)}" is not the private key of the certificate in "${rel(api.cert)}" (their public keys differ): a wrong file, or a renewed certificate without its new key`,
    ]);
  });

  test('min_version below TLS 1.2 says why; ciphers that match nothing; no certificate', () => {
    assert.deepEqual(errors(withTls(['min_version: TLSv1.1', ...certs([rel(www.cert), rel(www.key)])])), [
      'frontends[0].tls.min_version (line 7): must be TLSv1.2 or TLSv1.3: TLS 1.0 and 1.1 are deprecated (RFC 8996) and SSLv3 is broken, so rustlb does not accept them (got "TLSv1.1")',
    ]);
    assert.deepEqual(errors(withTls(['ciphers: NOT-A-CIPHER', ...certs([rel(www.cert), rel(www.key)])])), [
      'frontends[0].tls.ciphers (line 7): "NOT-A-CIPHER" matches no cipher OpenSSL knows (see openssl ciphers -v)',
    ]);
    assert.deepEqual(errors(withTls(['certificates: []'])), ['frontends[0].tls.certificates (line 7): must list at least 1 item (got an empty list)']);
    assert.deepEqual(errors(withTls(['min_version: TLSv1.2'])), ['frontends[0].tls.certificates (line 7): is required']);
  });

  test('backends: a CA file without a certificate, cert without key, key without cert, a client key that does not match', () => {
    assert.deepEqual(errors(withTls([], ['    tls:', `      ca: ${rel(www.key)}`])), [
      `backends[0].tls.ca (line 11): "${rel(www.key)}" holds no PEM certificate (-----BEGIN CERTIFICATE-----): a CA file lists the CA certificates as PEM (it holds a private key: are cert and key swapped?)`,
    ]);
    assert.deepEqual(errors(withTls([], ['    tls:', `      cert: ${rel(client.cert)}`])), [
      'backends[0].tls.cert (line 11): needs key too: a client certificate is sent with its private key',
    ]);
    assert.deepEqual(errors(withTls([], ['    tls:', `      key: ${rel(client.key)}`])), [
      'backends[0].tls.key (line 11): needs cert too: a private key is only used with its client certificate',
    ]);
    assert.deepEqual(errors(withTls([], ['    tls:', `      cert: ${rel(client.cert)}`, `      key: ${rel(www.key)}`])), [
      `backends[0].tls.key (line 12): "${rel(www.key)}" is not the private key of the certificate in "${rel(client.cert)}" (their public keys differ): a wrong file, or a renewed certificate without its new key`,
    ]);
    assert.deepEqual(errors(withTls([], ['    send_proxy: v3'])), ['backends[0].send_proxy (line 10): must be one of v1, v2 (got "v3"); did you mean "v1"?']);
  });

  test('the files are checked along with the rest: every error in one answer, in line order', () => {
    const text = withTls(certs(['missing.crt', rel(www.key)])).replace('backend: pool', 'backend: nope');
    assert.deepEqual(errors(text), [
      'frontends[0].backend (line 5): no backend named "nope"',
      `frontends[0].tls.certificates[0].cert (line 8): cannot read "missing.crt" (${join(dir, 'missing.crt')}): no such file`,
    ]);
  });
});

describe('what goes to the workers', () => {
  test('a certificate file holding its key too: only the certificates are used (a warning); a key file holding more: only the key', () => {
    const combined = join(dir, 'combined.pem');
    writeFileSync(combined, `${www.certPem}${www.keyPem}`, { mode: 0o600 });
    const extra = join(dir, 'extra.key');
    writeFileSync(extra, `-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n${www.keyPem}${www.certPem}`, { mode: 0o600 });
    const r = validate(withTls(certs(['combined.pem', 'extra.key'])));
    assert.ok(r.ok, r.ok ? '' : r.errors.map(formatProblem).join('\n'));
    assert.deepEqual(r.warnings.map(formatProblem), [
      'frontends[0].tls.certificates[0].cert (line 8): "combined.pem" holds a private key besides the certificates: only its certificates are used; keep the key in its own file, readable by rustlb only',
    ]);
    const c = r.config.frontends[0]?.tls?.certificates[0];
    assert.equal(c?.certPem, www.certPem);
    assert.equal(c?.keyPem, www.keyPem);
    // HAProxy's layout, one file for both, named twice: no warning.
    const both = validate(withTls(certs(['combined.pem', 'combined.pem'])));
    assert.ok(both.ok);
    assert.deepEqual(both.warnings, []);
    assert.equal(both.config.frontends[0]?.tls?.certificates[0]?.certPem, www.certPem);
    assert.equal(both.config.frontends[0]?.tls?.certificates[0]?.keyPem, www.keyPem);
  });

  test('an encrypted key is refused with how to decrypt it', () => {
    const encrypted = createPrivateKey(www.keyPem).export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'secret' }) as string;
    writeFileSync(join(dir, 'encrypted.key'), encrypted, { mode: 0o600 });
    assert.deepEqual(errors(withTls(certs([rel(www.cert), 'encrypted.key']))), [
      'frontends[0].tls.certificates[0].key (line 9): "encrypted.key" holds an encrypted private key: rustlb needs it unencrypted (openssl pkey -in FILE -out FILE.plain)',
    ]);
  });
});

describe('warnings', () => {
  test('an expired certificate and one not valid yet, with their dates', () => {
    const exp = new Date(Date.parse(new X509Certificate(expired.certPem).validTo)).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const from = new Date(Date.parse(new X509Certificate(future.certPem).validFrom)).toISOString().replace(/\.\d{3}Z$/, 'Z');
    assert.deepEqual(warnings(withTls(certs([rel(www.cert), rel(www.key)], [rel(expired.cert), rel(expired.key)], [rel(future.cert), rel(future.key)]))), [
      `frontends[0].tls.certificates[1].cert (line 10): the certificate in "${rel(expired.cert)}" expired on ${exp}: clients refuse it`,
      `frontends[0].tls.certificates[2].cert (line 12): the certificate in "${rel(future.cert)}" is not valid yet: valid from ${from}`,
    ]);
  });

  test('a key file its group or others may read', () => {
    const loose = join(dir, 'loose.key');
    copyFileSync(www.key, loose);
    chmodSync(loose, 0o644);
    assert.deepEqual(warnings(withTls(certs([rel(www.cert), 'loose.key']))), [
      `frontends[0].tls.certificates[0].key (line 9): "loose.key" may be read by its group or others (mode 0644): a private key should be readable by rustlb's user only (chmod 600)`,
    ]);
    chmodSync(loose, 0o640);
    assert.match(warnings(withTls(certs([rel(www.cert), 'loose.key'])))[0] as string, /mode 0640/);
  });

  test('a name covered twice: the first certificate wins', () => {
    assert.deepEqual(warnings(withTls(certs([rel(www.cert), rel(www.key)], [rel(www.cert), rel(www.key)]))), [
      'frontends[0].tls.certificates[1].cert (line 10): "www.example.com" is also covered by certificates[0], which SNI chooses first',
      'frontends[0].tls.certificates[1].cert (line 10): "*.example.com" is also covered by certificates[0], which SNI chooses first',
    ]);
  });
});

describe('keys never leak', () => {
  test('no summary, diff, error or warning carries a private key', () => {
    const text = withTls(certs([rel(www.cert), rel(www.key)], [rel(expired.cert), rel(expired.key)]), [
      '    tls:',
      `      cert: ${rel(client.cert)}`,
      `      key: ${rel(client.key)}`,
    ]);
    const r = validate(text);
    assert.ok(r.ok);
    const bad = validate(withTls(certs([rel(api.cert), rel(www.key)])));
    const renewed = validate(withTls(certs([rel(api.cert), rel(api.key)])));
    assert.ok(renewed.ok);
    const outputs = [
      summarize(r.config),
      JSON.stringify(diffConfig(r.config, r.config)),
      JSON.stringify(r.warnings),
      JSON.stringify(bad.ok ? [] : bad.errors),
      JSON.stringify(diffConfig(r.config, renewed.config)),
    ].join('\n');
    for (const key of [www.keyPem, expired.keyPem, client.keyPem, api.keyPem]) {
      const body = keyBody(key);
      assert.ok(body.length > 40);
      assert.ok(!outputs.includes(body), 'a key body is in an output');
      for (const line of body.match(/.{1,32}/g) ?? []) assert.ok(!outputs.includes(line), 'a piece of a key is in an output');
    }
    assert.match(summarize(r.config), /www\.example\.com, \*\.example\.com: valid until .*SHA-256 [0-9A-F:]{95}/);
    assert.match(summarize(r.config), /TLS to the servers, verified against Node's bundled CAs, client certificate /);
  });
});
