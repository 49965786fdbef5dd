// The PROXY protocol on TCP frontends (issue 15, point 4), against the real bin/rustlb:
// `send_proxy: v1 | v2` writes a header first on each server connection (the client as
// source, the address it reached on the frontend as destination), then the client's bytes
// unchanged; `proxy_protocol: accept` takes the client address from the header the client
// sends (it shows in the header sent on, in the access log), and closes a connection
// without a valid header before anything reaches a server, counting it.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { encodeProxyHeader, ProxyHeader, parseProxyHeader } from '@rustlb/proxy';
import {
  backend,
  freePorts,
  lbConfig,
  metricValue,
  QUIET_CHECK,
  RustlbProcess,
  startTcpUpstream,
  type TcpUpstream,
  TestPki,
  tcpFrontend,
  waitFor,
} from '@rustlb/testkit';

/** A raw TCP upstream that records every byte of every connection, and answers "pong:" + what it got once the client half-closes. */
class Recorder {
  readonly sessions: Buffer[][] = [];

  constructor(readonly upstream: TcpUpstream) {
    upstream.onConnection = (socket) => {
      const chunks: Buffer[] = [];
      this.sessions.push(chunks);
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.once('end', () => {
        const got = Buffer.concat(chunks);
        socket.end(Buffer.concat([Buffer.from('pong:'), createHash('sha256').update(got).digest()]));
      });
    };
  }

  /** The bytes of the connection whose bytes contain `marker` (health checks send only a LOCAL header). */
  find(marker: string): Buffer | undefined {
    for (const s of this.sessions) {
      const b = Buffer.concat(s);
      if (b.includes(marker)) return b;
    }
    return undefined;
  }

  /** Connections that carried any byte besides a health check's header. */
  get withBytes(): number {
    return this.sessions.filter((s) => s.some((c) => c.length > 0) && !isCheck(Buffer.concat(s))).length;
  }

  /** Connections of health checks: a PROXY header of the balancer itself, and nothing else. */
  get checks(): Buffer[] {
    return this.sessions.map((s) => Buffer.concat(s)).filter(isCheck);
  }
}

/** What a health check of a send_proxy backend sends: v1 `PROXY UNKNOWN`, v2 a LOCAL header, as our own codec writes them for "no address". */
const CHECK_HEADERS = [
  encodeProxyHeader('v1', { address: '', port: 0 }, { address: '', port: 0 }),
  encodeProxyHeader('v2', { address: '', port: 0 }, { address: '', port: 0 }),
];
const isCheck = (bytes: Buffer) => CHECK_HEADERS.some((h) => h.equals(bytes));

let lb: RustlbProcess;
let v1: Recorder;
let v2: Recorder;
let plain: Recorder;
let strict: Recorder;
let left: Recorder;
let right: Recorder;
let sendV1Fe: number;
let sendV2Fe: number;
let chainFe: number;
let logFe: number;
let strictFe: number;
let hashFe: number;
let sixFe: number;
let tlsFe: number;
let tlsChainFe: number;
let checkedFe: number;
let pki: TestPki;
let gate: { server: Server; checks: number; refused: number };

/**
 * A server that requires a PROXY header on every connection, as nginx's `listen ...
 * proxy_protocol` does: a connection that starts with anything else is reset (counted);
 * after the header, an HTTP request gets a 200 (a check, counted).
 */
async function startGate(): Promise<typeof gate> {
  const g = { server: createServer(), checks: 0, refused: 0 };
  g.server.on('connection', (socket) => {
    let got = Buffer.alloc(0);
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (!got.toString('latin1').startsWith('PROXY '.slice(0, got.length))) {
        g.refused++;
        socket.resetAndDestroy();
      } else if (got.indexOf('\r\n\r\n') > 0) {
        g.checks++;
        socket.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok');
      }
    });
  });
  await new Promise<void>((r) => g.server.listen(0, '127.0.0.1', r));
  return g;
}

before(async () => {
  const ups = await Promise.all(Array.from({ length: 6 }, () => startTcpUpstream()));
  [v1, v2, plain, strict, left, right] = ups.map((u) => new Recorder(u)) as [Recorder, Recorder, Recorder, Recorder, Recorder, Recorder];
  [sendV1Fe, sendV2Fe, chainFe, logFe, strictFe, hashFe, sixFe, tlsFe, tlsChainFe, checkedFe] = await freePorts(10);
  gate = await startGate();
  pki = await TestPki.create();
  const cert = await pki.server({ dns: ['pp.test'], name: 'pp' });
  const tls = { certificates: [{ cert: cert.cert, key: cert.key }] };
  lb = await RustlbProcess.start({
    config: lbConfig({
      global: { access_log: true },
      frontends: [
        tcpFrontend('send-v1', sendV1Fe, 'v1'),
        tcpFrontend('send-v2', sendV2Fe, 'v2'),
        // A PROXY header in, another out: the client's address from the one goes into the other.
        tcpFrontend('chain', chainFe, 'v1', { proxy_protocol: 'accept' }),
        tcpFrontend('log', logFe, 'plain', { proxy_protocol: 'accept' }),
        tcpFrontend('strict', strictFe, 'strict', { proxy_protocol: 'accept', tcp: { connect_timeout: '600ms' } }),
        tcpFrontend('hash', hashFe, 'pair', { proxy_protocol: 'accept', algorithm: 'ip_hash' }),
        tcpFrontend('six', sixFe, 'v2', { listen: `[::1]:${sixFe}` }),
        // TLS terminated, then the decrypted bytes to a send_proxy backend; with a PROXY header read before the handshake too.
        tcpFrontend('tls', tlsFe, 'v1', { tls }),
        tcpFrontend('tls-chain', tlsChainFe, 'v1', { tls, proxy_protocol: 'accept' }),
        tcpFrontend('checked', checkedFe, 'checked'),
      ],
      backends: [
        backend('v1', [v1.upstream.address], { health_check: QUIET_CHECK, send_proxy: 'v1' }),
        backend('v2', [v2.upstream.address], { health_check: QUIET_CHECK, send_proxy: 'v2' }),
        backend('plain', [plain.upstream.address], { health_check: QUIET_CHECK }),
        backend('strict', [strict.upstream.address], { health_check: QUIET_CHECK, send_proxy: 'v1' }),
        backend('pair', [left.upstream.address, right.upstream.address], { health_check: QUIET_CHECK }),
        // HTTP checks every 200 ms, down after 2 failures: a check the gate refused would show at once.
        backend('checked', [`127.0.0.1:${(gate.server.address() as AddressInfo).port}`], {
          send_proxy: 'v1',
          health_check: { type: 'http', path: '/health', interval: '200ms', timeout: '1s', unhealthy_threshold: 2 },
        }),
      ],
    }),
  });
});

after(async () => {
  await lb?.dispose();
  await Promise.all([v1, v2, plain, strict, left, right].map((r) => r?.upstream.close()));
  gate?.server.close();
  pki?.dispose();
});

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms).unref())]);
}

interface Client {
  readonly socket: Socket;
  readonly received: Buffer[];
  /** The client's own port (read at connect: a closed socket no longer says). */
  readonly port: number;
  /** Resolves when the proxy ends or closes the connection. */
  readonly closed: Promise<void>;
}

function open(port: number, host = '127.0.0.1'): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host, allowHalfOpen: true });
    const received: Buffer[] = [];
    socket.on('data', (c: Buffer) => received.push(c));
    socket.on('error', () => {});
    const closed = new Promise<void>((r) => {
      socket.once('end', () => r());
      socket.once('close', () => r());
    });
    socket.once('connect', () => resolve({ socket, received, port: socket.localPort ?? 0, closed }));
    socket.once('error', reject);
  });
}

/** Parses the PROXY header at the start of `bytes`; returns it and what follows. */
function splitHeader(bytes: Buffer): { header: ProxyHeader; rest: Buffer; raw: Buffer } {
  const header = new ProxyHeader();
  const n = parseProxyHeader(bytes, 0, bytes.length, header);
  assert.ok(n > 0, `no PROXY header at the start of ${JSON.stringify(bytes.subarray(0, 60).toString('latin1'))}: ${n} ${header.error}`);
  return { header, rest: bytes.subarray(n), raw: bytes.subarray(0, n) };
}

/**
 * Sends `prefix` (a PROXY header, or nothing) then `payload` with a half-close; waits for the
 * upstream's answer; returns what the upstream received.
 */
async function session(
  port: number,
  recorder: Recorder,
  payload: Buffer,
  marker: string,
  prefix: Buffer = Buffer.alloc(0),
): Promise<{ client: Client; seen: Buffer }> {
  const client = await open(port);
  if (prefix.length > 0) client.socket.write(prefix);
  client.socket.end(payload);
  await within(client.closed, 10_000, 'the answer and the close');
  const seen = await waitFor(() => recorder.find(marker), `the upstream's bytes of ${marker}`);
  const answer = Buffer.concat(client.received);
  // The upstream answers with the hash of everything it got: header and payload, both ways intact.
  assert.deepEqual(answer, Buffer.concat([Buffer.from('pong:'), createHash('sha256').update(seen).digest()]));
  return { client, seen };
}

function marked(marker: string, size = 0): Buffer {
  return Buffer.concat([Buffer.from(marker), randomBytes(size)]);
}

test('send_proxy v1: the upstream gets "PROXY TCP4 <client> <frontend address> ..." first, then the payload intact', async () => {
  const marker = `v1-${randomBytes(6).toString('hex')}`;
  const payload = marked(marker, 1024 * 1024);
  const { client, seen } = await session(sendV1Fe, v1, payload, marker);
  const expected = `PROXY TCP4 127.0.0.1 127.0.0.1 ${client.port} ${sendV1Fe}\r\n`;
  assert.equal(seen.subarray(0, expected.length).toString('latin1'), expected);
  const { header, rest } = splitHeader(seen);
  assert.deepEqual([header.version, header.family, header.sourcePort, header.destPort], [1, 'tcp4', client.port, sendV1Fe]);
  assert.equal(rest.length, payload.length);
  assert.ok(rest.equals(payload), 'the payload after the header, byte for byte');
});

test('send_proxy v2: the upstream gets the binary header (AF_INET, STREAM) first, then the payload intact', async () => {
  const marker = `v2-${randomBytes(6).toString('hex')}`;
  const payload = marked(marker, 256 * 1024);
  const { client, seen } = await session(sendV2Fe, v2, payload, marker);
  const { header, rest, raw } = splitHeader(seen);
  assert.deepEqual(raw, encodeProxyHeader('v2', { address: '127.0.0.1', port: client.port }, { address: '127.0.0.1', port: sendV2Fe }));
  assert.deepEqual(
    [header.version, header.command, header.family, header.sourceAddress, header.sourcePort, header.destAddress, header.destPort],
    [2, 'proxy', 'tcp4', '127.0.0.1', client.port, '127.0.0.1', sendV2Fe],
  );
  assert.ok(rest.equals(payload));
});

test('health checks of a send_proxy backend send a header of the balancer itself (v1 UNKNOWN, v2 LOCAL): a server that requires one stays up', async () => {
  // The tcp checks of the v1 and v2 backends: the first probe comes within a second of the start.
  await waitFor(() => v1.checks.length >= 1 && v2.checks.length >= 1, 'a tcp check of each, header only');
  assert.deepEqual(v1.checks[0]?.toString('latin1'), 'PROXY UNKNOWN\r\n');
  assert.deepEqual(v2.checks[0], CHECK_HEADERS[1]);
  // HTTP checks every 200 ms through a server that resets any connection without a header.
  await waitFor(() => gate.checks >= 5, 'five http checks answered by the server that requires the header', 10_000);
  assert.equal(gate.refused, 0, 'no check came without a header');
  const m = await lb.metrics();
  const server = `127.0.0.1:${(gate.server.address() as AddressInfo).port}`;
  assert.equal(metricValue(m, 'rustlb_backend_health', { backend: 'checked', server }), 1);
  assert.equal(metricValue(m, 'rustlb_health_checks_total', { backend: 'checked', server, result: 'Failure' }) ?? 0, 0);
  assert.ok((metricValue(m, 'rustlb_health_checks_total', { backend: 'checked', server, result: 'Success' }) ?? 0) >= 5);
});

test('send_proxy: one header per server connection, never repeated inside a session', async () => {
  const marker = `once-${randomBytes(6).toString('hex')}`;
  const client = await open(sendV1Fe);
  // Several writes: only the first byte of the connection gets a header before it.
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => client.socket.write(`${marker}:${i};`, () => r()));
  client.socket.end();
  await within(client.closed, 10_000, 'the close');
  const seen = await waitFor(() => v1.find(marker), 'the upstream bytes');
  const { rest } = splitHeader(seen);
  assert.equal(rest.toString(), [0, 1, 2, 3, 4].map((i) => `${marker}:${i};`).join(''));
  assert.equal(seen.toString('latin1').split('PROXY ').length, 2);
});

test('proxy_protocol accept, a v1 header from the client: its source is the client in the header sent on', async () => {
  const marker = `chain1-${randomBytes(6).toString('hex')}`;
  const payload = marked(marker, 4096);
  const { seen } = await session(chainFe, v1, payload, marker, Buffer.from('PROXY TCP4 203.0.113.7 10.9.8.7 56324 443\r\n'));
  // The destination is the address this frontend was reached at, not the one in the client's header.
  assert.equal(seen.subarray(0, seen.indexOf('\r\n') + 2).toString('latin1'), `PROXY TCP4 203.0.113.7 127.0.0.1 56324 ${chainFe}\r\n`);
  assert.ok(splitHeader(seen).rest.equals(payload), 'nothing of the client header passes; the payload does');
});

test('proxy_protocol accept, a v2 IPv6 header from the client: sent on over TCP6 (the IPv4 destination IPv4-mapped)', async () => {
  const marker = `chain2-${randomBytes(6).toString('hex')}`;
  const payload = marked(marker, 100);
  const header = encodeProxyHeader('v2', { address: '2001:db8::7', port: 40000 }, { address: '2001:db8::1', port: 443 });
  const { seen } = await session(chainFe, v1, payload, marker, header);
  assert.equal(seen.subarray(0, seen.indexOf('\r\n') + 2).toString('latin1'), `PROXY TCP6 2001:db8::7 ::ffff:127.0.0.1 40000 ${chainFe}\r\n`);
  assert.ok(splitHeader(seen).rest.equals(payload));
});

test('proxy_protocol accept: the header and the first bytes in one write, or the header in pieces, both work', async () => {
  const marker = `pieces-${randomBytes(6).toString('hex')}`;
  const header = Buffer.from('PROXY TCP4 192.0.2.1 192.0.2.2 1000 2000\r\n');
  const client = await open(chainFe);
  for (let i = 0; i < header.length; i += 7) await new Promise<void>((r) => client.socket.write(header.subarray(i, i + 7), () => r()));
  client.socket.end(marker);
  await within(client.closed, 10_000, 'the close');
  const seen = await waitFor(() => v1.find(marker), 'the upstream bytes');
  assert.equal(seen.toString('latin1'), `PROXY TCP4 192.0.2.1 127.0.0.1 1000 ${chainFe}\r\n${marker}`);
});

test('proxy_protocol accept: a v2 LOCAL header (a health check of the balancer in front) leaves the peer as the client', async () => {
  const marker = `local-${randomBytes(6).toString('hex')}`;
  const local = encodeProxyHeader('v2', { address: '', port: 0 }, { address: '', port: 0 });
  const { client, seen } = await session(chainFe, v1, marked(marker), marker, local);
  assert.equal(seen.subarray(0, seen.indexOf('\r\n') + 2).toString('latin1'), `PROXY TCP4 127.0.0.1 127.0.0.1 ${client.port} ${chainFe}\r\n`);
});

test("proxy_protocol accept: the access log shows the header's address as the client", async () => {
  for (const [version, address] of [
    ['v1', '198.51.100.9'],
    ['v2', '2001:db8:0:0:0:0:0:42'],
  ] as const) {
    const marker = `log-${version}-${randomBytes(6).toString('hex')}`;
    const payload = marked(marker, 10);
    const header = encodeProxyHeader(version, { address, port: 5555 }, { address: address.includes(':') ? '::1' : '127.0.0.1', port: logFe });
    const { seen } = await session(logFe, plain, payload, marker, header);
    assert.ok(seen.equals(payload), 'no send_proxy: the upstream gets the payload alone');
    const expected = address.includes(':') ? '2001:db8::42' : address;
    await lb.waitForLog(
      (l) => l.msg === 'tcp session' && l.frontend === 'log' && l.clientIp === expected && l.bytesIn === header.length + payload.length,
      `the session line of ${expected}`,
    );
  }
});

async function rejected(reason: string): Promise<number> {
  return metricValue(await lb.metrics(), 'rustlb_proxy_protocol_rejected_total', { frontend: 'strict', reason }) ?? 0;
}

/** Opens a connection to the strict frontend, sends `bytes`, and expects it closed with nothing sent upstream and one more `reason` counted. */
async function refused(bytes: Buffer | null, reason: string, endAfter = false): Promise<void> {
  const before = await rejected(reason);
  const upstreamBefore = strict.withBytes;
  const client = await open(strictFe);
  if (bytes !== null) client.socket.write(bytes);
  if (endAfter) client.socket.end();
  await within(client.closed, 5_000, 'the close of a connection without a valid header');
  assert.equal(Buffer.concat(client.received).length, 0, 'nothing answered');
  client.socket.destroy();
  await waitFor(async () => (await rejected(reason)) === before + 1, `rustlb_proxy_protocol_rejected_total{reason="${reason}"} + 1`);
  assert.equal(strict.withBytes, upstreamBefore, 'nothing reached the server');
}

test('proxy_protocol accept: a connection without a header (an HTTP request) is closed, nothing sent on, counted invalid', async () => {
  await refused(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), 'invalid');
});

test('proxy_protocol accept: malformed headers are closed, nothing sent on, counted invalid', async () => {
  for (const bad of [
    'PROXY TCP4 1.2.3.4 5.6.7.8 99999 1\r\n',
    'PROXY TCP4 1.2.3.04 5.6.7.8 1 2\r\nhello',
    'PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n',
    'PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n',
    'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n',
  ]) {
    await refused(Buffer.from(bad, 'latin1'), 'invalid');
  }
  // v2: a UNIX family, and a bad version.
  const unix = encodeProxyHeader('v2', { address: '10.0.0.1', port: 1 }, { address: '10.0.0.2', port: 2 });
  unix[13] = 0x31;
  await refused(unix, 'invalid');
  const version = encodeProxyHeader('v2', { address: '10.0.0.1', port: 1 }, { address: '10.0.0.2', port: 2 });
  version[12] = 0x11;
  await refused(version, 'invalid');
});

test('proxy_protocol accept: a client that sends nothing is closed at the deadline (tcp.connect_timeout) and counted timeout', async () => {
  const started = Date.now();
  await refused(null, 'timeout');
  const took = Date.now() - started;
  assert.ok(took >= 500, `closed after ${took} ms, before the deadline`);
});

test('proxy_protocol accept: a client that closes in the middle of its header is counted closed, nothing sent on', async () => {
  await refused(Buffer.from('PROXY TCP4 1.2.3.4 '), 'closed', true);
});

test('proxy_protocol accept: the strict frontend still works with a valid header', async () => {
  const marker = `strict-${randomBytes(6).toString('hex')}`;
  const { seen } = await session(strictFe, strict, marked(marker), marker, Buffer.from('PROXY TCP4 203.0.113.99 127.0.0.1 7 8\r\n'));
  assert.equal(seen.subarray(0, seen.indexOf('\r\n') + 2).toString('latin1'), `PROXY TCP4 203.0.113.99 127.0.0.1 7 ${strictFe}\r\n`);
});

test('send_proxy v2 on an IPv6 frontend: AF_INET6 with the client and the frontend address', async () => {
  const marker = `six-${randomBytes(6).toString('hex')}`;
  const payload = marked(marker, 1000);
  const client = await open(sixFe, '::1');
  client.socket.end(payload);
  await within(client.closed, 10_000, 'the answer and the close');
  const seen = await waitFor(() => v2.find(marker), 'the upstream bytes');
  const { header, rest } = splitHeader(seen);
  assert.deepEqual(
    [header.version, header.family, header.sourceAddress, header.sourcePort, header.destAddress, header.destPort],
    [2, 'tcp6', '::1', client.port, '::1', sixFe],
  );
  assert.ok(rest.equals(payload));
});

test("proxy_protocol accept with ip_hash: the header's address is what is hashed", async () => {
  /** Which of the two servers a session with this client address went to. */
  const serverOf = async (address: string): Promise<'left' | 'right'> => {
    const marker = `hash-${randomBytes(6).toString('hex')}`;
    const client = await open(hashFe);
    client.socket.write(`PROXY TCP4 ${address} 127.0.0.1 1234 ${hashFe}\r\n`);
    client.socket.end(marker);
    await within(client.closed, 10_000, 'the close');
    return waitFor(() => (left.find(marker) ? 'left' : right.find(marker) ? 'right' : null), `the server of ${address}`);
  };
  // One address: always the same server, though every session comes from 127.0.0.1.
  const first = await serverOf('198.51.100.1');
  for (let i = 0; i < 5; i++) assert.equal(await serverOf('198.51.100.1'), first);
  // Many addresses: both servers (the peer address alone would give one).
  const seen = new Set<string>();
  for (let i = 2; i < 40 && seen.size < 2; i++) seen.add(await serverOf(`198.51.100.${i}`));
  assert.equal(seen.size, 2, 'different header addresses reach both servers');
});

/** Opens a connection, writes `prefix` in the clear, then speaks TLS over it: sends `payload`, half-closes, waits for the close. */
async function overTls(port: number, prefix: Buffer, payload: Buffer): Promise<number> {
  const raw = await open(port);
  if (prefix.length > 0) raw.socket.write(prefix);
  const secure = tlsConnect({ socket: raw.socket, servername: 'pp.test', ca: pki.ca.certPem });
  secure.on('error', () => {});
  const closed = new Promise<void>((r) => {
    secure.once('end', () => r());
    secure.once('close', () => r());
  });
  secure.resume();
  await within(new Promise<void>((r) => secure.once('secureConnect', () => r())), 10_000, 'the TLS handshake');
  secure.end(payload);
  await within(closed, 10_000, 'the close');
  return raw.port;
}

test('send_proxy behind a TLS frontend: the header names the client and the frontend address, the payload arrives decrypted', async () => {
  const marker = `tls-${randomBytes(6).toString('hex')}`;
  const payload = marked(marker, 10_000);
  const port = await overTls(tlsFe, Buffer.alloc(0), payload);
  const seen = await waitFor(() => v1.find(marker), 'the upstream bytes');
  assert.equal(seen.subarray(0, seen.indexOf('\r\n') + 2).toString('latin1'), `PROXY TCP4 127.0.0.1 127.0.0.1 ${port} ${tlsFe}\r\n`);
  assert.ok(splitHeader(seen).rest.equals(payload));
});

test('proxy_protocol accept on a TLS frontend: the header before the handshake, its source sent on', async () => {
  const marker = `tls-chain-${randomBytes(6).toString('hex')}`;
  const payload = marked(marker, 10_000);
  await overTls(tlsChainFe, Buffer.from('PROXY TCP4 203.0.113.50 10.1.1.1 777 443\r\n'), payload);
  const seen = await waitFor(() => v1.find(marker), 'the upstream bytes');
  assert.equal(seen.subarray(0, seen.indexOf('\r\n') + 2).toString('latin1'), `PROXY TCP4 203.0.113.50 127.0.0.1 777 ${tlsChainFe}\r\n`);
  assert.ok(splitHeader(seen).rest.equals(payload));
});
