// TLS on the new data plane (issue 15): termination with SNI (exact, wildcard, default),
// certificate rotation by reload under load, TLS to servers (verification, a wrong CA,
// mTLS, verify: false), the PROXY protocol in (v1, v2, refused when missing or malformed)
// and out (send_proxy on HTTP), a TLS frontend in front of a TCP backend, and the
// handshake metrics. Certificates are made at test time with openssl (TestPki).
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { type AddressInfo, createServer as createNetServer, type Server as NetServer, connect as netConnect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createServer as createTlsServer, type PeerCertificate, type TLSSocket, connect as tlsConnect } from 'node:tls';
import {
  backend,
  type CertFiles,
  freePorts,
  frontend,
  type HttpUpstream,
  httpCheck,
  lbConfig,
  metricValue,
  RustlbProcess,
  startHttpUpstream,
  TestPki,
  tcpFrontend,
  waitFor,
} from '@rustlb/testkit';

let pki: TestPki;
let certA: CertFiles;
let certWild: CertFiles;
let certA2: CertFiles;
let client: CertFiles;
let plain: HttpUpstream;
/** Answers one request per connection, after recording the connection's first bytes (a PROXY header, then the head). */
let proxySink: NetServer;
const sinkFirst: Buffer[] = [];
let secureUp: HttpsServer;
let mtlsUp: HttpsServer;
let tcpEcho: NetServer;
/** A TLS echo server (a TCP backend with tls). */
let tlsEcho: NetServer;
let lb: RustlbProcess;
let fe: {
  tls: number;
  proxy: number;
  toTls: number;
  wrongCa: number;
  mtls: number;
  noMtls: number;
  noVerify: number;
  sendProxy: number;
  tlsTcp: number;
  tcpToTls: number;
  tcpWrongCa: number;
  checkedWrongCa: number;
};
const seenByHttps: string[] = [];

function listen<T extends NetServer | HttpsServer>(server: T): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

/** A TLS connection to rustlb; resolves once the handshake is done. */
function tlsOpen(port: number, servername?: string, extra: Record<string, unknown> = {}): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...(servername === undefined ? {} : { servername }), ...extra });
    s.once('secureConnect', () => resolve(s));
    s.once('error', reject);
  });
}

/** One request over a TLS connection (Connection: close); the raw answer. */
async function tlsRequest(port: number, path: string, servername = 'a.test'): Promise<string> {
  const s = await tlsOpen(port, servername);
  return new Promise((resolve, reject) => {
    let text = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      text += d;
    });
    s.once('end', () => resolve(text));
    s.once('error', reject);
    s.write(`GET ${path} HTTP/1.1\r\nHost: ${servername}\r\nConnection: close\r\n\r\n`);
  });
}

/** One request over plain TCP, after `prefix` bytes (a PROXY header); the answer and whether it closed. */
function plainRequest(port: number, prefix: Buffer | string, path: string): Promise<string> {
  return new Promise((resolve) => {
    const s = netConnect(port, '127.0.0.1');
    let text = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      text += d;
    });
    s.on('error', () => {});
    s.once('close', () => resolve(text));
    s.write(prefix);
    s.write(`GET ${path} HTTP/1.1\r\nHost: p.test\r\nConnection: close\r\n\r\n`);
  });
}

function statusOf(answer: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
}

function sanOf(cert: PeerCertificate): string {
  return cert.subjectaltname ?? '';
}

function config(): Record<string, unknown> {
  const https = (name: string, port: number, tls: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    backend(name, [`127.0.0.1:${port}`], { tls, ...extra });
  const securePort = (secureUp.address() as AddressInfo).port;
  const mtlsPort = (mtlsUp.address() as AddressInfo).port;
  const tls = {
    certificates: [
      { cert: certA.cert, key: certA.key },
      { cert: certWild.cert, key: certWild.key },
    ],
  };
  return lbConfig({
    global: { access_log: true },
    frontends: [
      frontend('tls', fe.tls, 'plain', { tls }),
      frontend('proxy', fe.proxy, 'plain', { proxy_protocol: 'accept' }),
      frontend('to-tls', fe.toTls, 'secure'),
      frontend('wrong-ca', fe.wrongCa, 'wrong-ca'),
      frontend('mtls', fe.mtls, 'mtls'),
      frontend('no-mtls', fe.noMtls, 'no-mtls'),
      frontend('no-verify', fe.noVerify, 'no-verify'),
      frontend('send-proxy', fe.sendProxy, 'raw-proxy'),
      frontend('checked-wrong-ca', fe.checkedWrongCa, 'checked-wrong-ca'),
      tcpFrontend('tls-tcp', fe.tlsTcp, 'echo', { tls: { certificates: [{ cert: certA.cert, key: certA.key }] } }),
      tcpFrontend('tcp-to-tls', fe.tcpToTls, 'tls-echo'),
      tcpFrontend('tcp-wrong-ca', fe.tcpWrongCa, 'tls-echo-wrong-ca'),
    ],
    backends: [
      backend('plain', [plain.address]),
      https('secure', securePort, { ca: pki.ca.cert, servername: 'upstream.test' }, { health_check: httpCheck({ interval: '200ms', timeout: '1s' }) }),
      // Only its active checks reach it: they must fail on the certificate, as requests would.
      https(
        'checked-wrong-ca',
        securePort,
        { ca: certA.cert, servername: 'upstream.test' },
        { health_check: { type: 'tcp', interval: '200ms', timeout: '1s', unhealthy_threshold: 2 } },
      ),
      // Verified against a CA that did not sign the server's certificate.
      https('wrong-ca', securePort, { ca: certA.cert, servername: 'upstream.test' }),
      https('mtls', mtlsPort, { ca: pki.ca.cert, servername: 'upstream.test', cert: client.cert, key: client.key }),
      https('no-mtls', mtlsPort, { ca: pki.ca.cert, servername: 'upstream.test' }),
      https('no-verify', securePort, { verify: false }),
      backend('raw-proxy', [`127.0.0.1:${(proxySink.address() as AddressInfo).port}`], { send_proxy: 'v2' }),
      backend('echo', [`127.0.0.1:${(tcpEcho.address() as AddressInfo).port}`]),
      https('tls-echo', (tlsEcho.address() as AddressInfo).port, { ca: pki.ca.cert, servername: 'upstream.test' }),
      https('tls-echo-wrong-ca', (tlsEcho.address() as AddressInfo).port, { ca: certA.cert, servername: 'upstream.test' }),
    ],
  });
}

before(async () => {
  pki = await TestPki.create();
  certA = await pki.server({ dns: ['a.test'], name: 'a' });
  certWild = await pki.server({ dns: ['*.b.test'], name: 'wild' });
  certA2 = await pki.server({ dns: ['a.test'], name: 'a2' });
  client = await pki.client('rustlb-mtls');
  const upstreamCert = await pki.server({ dns: ['upstream.test'], ips: ['127.0.0.1'], name: 'upstream' });
  plain = await startHttpUpstream('plain');
  proxySink = createNetServer((s: Socket) => {
    let got = Buffer.alloc(0);
    s.on('error', () => {});
    s.on('data', (d: Buffer) => {
      // Health checks of the backend open connections too, each with a LOCAL header (command 0x20): not a client's.
      if (got.length === 0 && d[12] !== 0x20) sinkFirst.push(d);
      got = Buffer.concat([got, d]);
      // The v2 signature itself holds a blank line: the request head is what ends with one.
      const head = got.indexOf('GET ');
      if (head >= 0 && got.indexOf('\r\n\r\n', head) > 0) s.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
    });
  });
  secureUp = createHttpsServer({ cert: upstreamCert.certPem, key: upstreamCert.keyPem }, (req, res) => {
    seenByHttps.push(req.url ?? '');
    res.end('secure upstream\n');
  });
  mtlsUp = createHttpsServer(
    { cert: upstreamCert.certPem, key: upstreamCert.keyPem, ca: pki.ca.certPem, requestCert: true, rejectUnauthorized: true },
    (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      res.end(`mtls upstream, client ${peer.subject?.CN}\n`);
    },
  );
  tcpEcho = createNetServer((s: Socket) => {
    s.on('error', () => {});
    s.pipe(s);
  });
  tlsEcho = createTlsServer({ cert: upstreamCert.certPem, key: upstreamCert.keyPem }, (s) => {
    s.on('error', () => {});
    s.pipe(s);
  });
  await Promise.all([listen(secureUp), listen(mtlsUp), listen(tcpEcho), listen(proxySink), listen(tlsEcho)]);
  const ports = await freePorts(12);
  fe = {
    tls: ports[0],
    proxy: ports[1],
    toTls: ports[2],
    wrongCa: ports[3],
    mtls: ports[4],
    noMtls: ports[5],
    noVerify: ports[6],
    sendProxy: ports[7],
    tlsTcp: ports[8],
    tcpToTls: ports[9],
    tcpWrongCa: ports[10],
    checkedWrongCa: ports[11],
  };
  lb = await RustlbProcess.start({ config: config() });
});

after(async () => {
  await lb?.dispose();
  await plain?.close();
  proxySink?.close();
  secureUp?.close();
  mtlsUp?.close();
  tcpEcho?.close();
  tlsEcho?.close();
  pki?.dispose();
});

describe('TLS termination', () => {
  test('SNI picks the certificate: exact name, wildcard; no SNI or an unknown name gets the first', async () => {
    const cases: [string | undefined, string][] = [
      ['a.test', 'DNS:a.test'],
      ['x.b.test', 'DNS:*.b.test'],
      [undefined, 'DNS:a.test'],
      ['unknown.test', 'DNS:a.test'],
    ];
    for (const [servername, san] of cases) {
      const s = await tlsOpen(fe.tls, servername);
      assert.equal(sanOf(s.getPeerCertificate()), san, `SNI ${servername}`);
      assert.equal(s.alpnProtocol, false);
      s.destroy();
    }
    const h = await tlsOpen(fe.tls, 'a.test', { ALPNProtocols: ['h2', 'http/1.1'] });
    assert.equal(h.alpnProtocol, 'http/1.1', 'ALPN: http/1.1 (never h2)');
    assert.ok(['TLSv1.2', 'TLSv1.3'].includes(h.getProtocol() ?? ''));
    h.destroy();
  });

  test('requests over TLS are proxied with X-Forwarded-Proto: https; the access log names the TLS version', async () => {
    const answer = await tlsRequest(fe.tls, '/over-tls');
    assert.equal(statusOf(answer), 200, answer);
    const seen = plain.requests.find((r) => r.url === '/over-tls');
    assert.equal(seen?.headers['x-forwarded-proto'], 'https');
    const line = await lb.waitForLog((l) => l.msg === 'http request' && l.path === '/over-tls', 'the access line');
    assert.ok(['TLSv1.2', 'TLSv1.3'].includes(String(line.tlsVersion)), JSON.stringify(line));
    assert.ok(String(line.tlsCipher).length > 0);
  });

  test('TLS below 1.2 is refused and counted by reason; plain HTTP on a TLS port too', async () => {
    assert.equal(statusOf(await tlsRequest(fe.tls, '/handshake-ok')), 200);
    // SECLEVEL=0: newer OpenSSL builds (Node 24) refuse to even offer TLS 1.1 otherwise.
    await assert.rejects(tlsOpen(fe.tls, 'a.test', { maxVersion: 'TLSv1.1', minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' }));
    await plainRequest(fe.tls, '', '/plain-on-tls');
    await waitFor(
      async () => {
        const m = await lb.metrics();
        return (
          (metricValue(m, 'rustlb_tls_handshake_failures_total', { frontend: 'tls', reason: 'protocol_version' }) ?? 0) >= 1 &&
          (metricValue(m, 'rustlb_tls_handshake_failures_total', { frontend: 'tls', reason: 'not_tls' }) ?? 0) >= 1 &&
          (metricValue(m, 'rustlb_tls_handshakes_total', { frontend: 'tls' }) ?? 0) >= 1
        );
      },
      'handshake failures counted by reason',
      5000,
    );
    assert.ok(!plain.requests.some((r) => r.url === '/plain-on-tls'));
  });

  test('a TLS frontend in front of a TCP backend: bytes pass decrypted both ways', async () => {
    const s = await tlsOpen(fe.tlsTcp, 'a.test');
    const echoed = await new Promise<string>((resolve) => {
      let text = '';
      s.setEncoding('utf8');
      s.on('data', (d: string) => {
        text += d;
        if (text.length >= 11) resolve(text);
      });
      s.write('hello tcp\r\n');
    });
    assert.equal(echoed, 'hello tcp\r\n');
    s.destroy();
  });

  test('a reload with a new certificate: new handshakes get it, an open connection keeps working; nothing fails meanwhile', async () => {
    const before = await tlsOpen(fe.tls, 'a.test');
    const oldFingerprint = before.getPeerCertificate().fingerprint256;
    let failures = 0;
    let done = 0;
    let stop = false;
    const load = (async () => {
      while (!stop) {
        const answer = await tlsRequest(fe.tls, '/during-rotation').catch(() => '');
        if (statusOf(answer) === 200) done++;
        else failures++;
      }
    })();
    // The operator's rotation: the files are replaced, then a reload.
    copyFileSync(certA2.cert, certA.cert);
    copyFileSync(certA2.key, certA.key);
    const r = await lb.ctl(['reload']);
    assert.equal(r.code, 0, r.stderr);
    await waitFor(
      async () => {
        const s = await tlsOpen(fe.tls, 'a.test');
        const fp = s.getPeerCertificate().fingerprint256;
        s.destroy();
        return fp !== oldFingerprint;
      },
      'new handshakes to see the new certificate',
      10_000,
    );
    stop = true;
    await load;
    assert.equal(failures, 0, `${failures} requests failed during the rotation (${done} answered)`);
    assert.ok(done > 0);
    // The connection opened before the rotation still works.
    before.write('GET /old-connection HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n');
    const answer = await new Promise<string>((resolve) => {
      let t = '';
      before.setEncoding('utf8');
      before.on('data', (d: string) => {
        t += d;
      });
      before.once('end', () => resolve(t));
    });
    assert.equal(statusOf(answer), 200);
  });
});

describe('TLS to servers', () => {
  test('a verified HTTPS server answers through rustlb', async () => {
    const answer = await plainRequest(fe.toTls, '', '/to-tls');
    assert.equal(statusOf(answer), 200, answer);
    assert.match(answer, /secure upstream/);
  });

  test('a server whose certificate does not verify (wrong CA) gets nothing: 502, counted as a TLS failure of that server', async () => {
    const answer = await plainRequest(fe.wrongCa, '', '/wrong-ca');
    assert.equal(statusOf(answer), 502, answer);
    assert.ok(!seenByHttps.includes('/wrong-ca'), 'no request reached the server');
    await lb.waitForLog((l) => l.msg === 'TLS handshake with the server failed' && l.failure === 'tls', 'the failure logged as tls');
  });

  test('mTLS: the client certificate is presented; without it the server refuses', async () => {
    const ok = await plainRequest(fe.mtls, '', '/mtls');
    assert.equal(statusOf(ok), 200, ok);
    assert.match(ok, /mtls upstream, client rustlb-mtls/);
    const refused = await plainRequest(fe.noMtls, '', '/no-mtls');
    assert.equal(statusOf(refused), 502, refused);
  });

  test('a TCP backend with tls: the session is encrypted to the server; a wrong CA closes it and is counted', async () => {
    const echoed = await new Promise<string>((resolve, reject) => {
      const s = netConnect(fe.tcpToTls, '127.0.0.1', () => s.write('over tls\r\n'));
      let text = '';
      s.setEncoding('utf8');
      s.on('data', (d: string) => {
        text += d;
        if (text.length >= 10) {
          s.destroy();
          resolve(text);
        }
      });
      s.on('error', reject);
    });
    assert.equal(echoed, 'over tls\r\n');
    const refused = await new Promise<string>((resolve) => {
      const s = netConnect(fe.tcpWrongCa, '127.0.0.1', () => s.write('x'));
      let text = '';
      s.on('data', (d: Buffer) => {
        text += d.toString();
      });
      s.on('error', () => {});
      s.once('close', () => resolve(text));
    });
    assert.equal(refused, '', 'closed with nothing relayed');
    await lb.waitForLog((l) => l.msg === 'TLS handshake with the server failed' && l.frontend === 'tcp-wrong-ca', 'the TCP session logs the TLS failure');
  });

  test('health checks of a TLS backend speak TLS: a verified server is up, one whose certificate does not verify goes down', async () => {
    await waitFor(
      async () => {
        const m = await lb.metrics();
        const ok =
          (metricValue(m, 'rustlb_health_checks_total', { backend: 'secure', result: 'success' }) ?? 0) +
          (metricValue(m, 'rustlb_health_checks_total', { backend: 'secure', result: 'Success' }) ?? 0);
        return ok > 0 && metricValue(m, 'rustlb_backend_health', { backend: 'checked-wrong-ca' }) === 0;
      },
      'the verified backend checked up, the other down',
      10_000,
    );
    const m = await lb.metrics();
    assert.equal(metricValue(m, 'rustlb_backend_health', { backend: 'secure' }), 1);
  });

  test('verify: false reaches a server whose certificate is not trusted', async () => {
    const answer = await plainRequest(fe.noVerify, '', '/no-verify');
    assert.equal(statusOf(answer), 200, answer);
  });
});

describe('PROXY protocol', () => {
  const v2 = (src: string, srcPort: number): Buffer => {
    const sig = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
    const addr = Buffer.alloc(12);
    Buffer.from(src.split('.').map(Number)).copy(addr, 0);
    Buffer.from([10, 0, 0, 1]).copy(addr, 4);
    addr.writeUInt16BE(srcPort, 8);
    addr.writeUInt16BE(80, 10);
    return Buffer.concat([sig, Buffer.from([0x21, 0x11, 0x00, 12]), addr]);
  };

  test('v1 and v2 headers: their source is the client (X-Forwarded-For)', async () => {
    const a = await plainRequest(fe.proxy, 'PROXY TCP4 203.0.113.7 10.0.0.1 5555 80\r\n', '/pp-v1');
    assert.equal(statusOf(a), 200, a);
    assert.equal(plain.requests.find((r) => r.url === '/pp-v1')?.headers['x-forwarded-for'], '203.0.113.7');
    const b = await plainRequest(fe.proxy, v2('198.51.100.9', 4444), '/pp-v2');
    assert.equal(statusOf(b), 200, b);
    assert.equal(plain.requests.find((r) => r.url === '/pp-v2')?.headers['x-forwarded-for'], '198.51.100.9');
  });

  test('a missing or malformed header: the connection is closed, nothing reaches a server, counted', async () => {
    const before = plain.requests.length;
    const missing = await plainRequest(fe.proxy, '', '/pp-missing');
    const malformed = await plainRequest(fe.proxy, 'PROXY TCP4 1.2.3 10.0.0.1 5555 80\r\n', '/pp-bad');
    assert.equal(missing, '');
    assert.equal(malformed, '');
    assert.equal(plain.requests.length, before);
    const m = await lb.metrics();
    assert.ok((metricValue(m, 'rustlb_proxy_protocol_rejected_total', { frontend: 'proxy', reason: 'invalid' }) ?? 0) >= 2);
  });

  test('send_proxy v2: each new server connection starts with a header naming the client', async () => {
    const answer = await plainRequest(fe.sendProxy, '', '/sp');
    assert.equal(statusOf(answer), 200, answer);
    await waitFor(() => sinkFirst.length > 0, 'the upstream to see a connection', 5000);
    const first = sinkFirst[0] as Buffer;
    assert.deepEqual([...first.subarray(0, 12)], [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
    assert.equal(first[13], 0x11, 'TCP over IPv4');
    assert.equal([...first.subarray(16, 20)].join('.'), '127.0.0.1');
  });
});
