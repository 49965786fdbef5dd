// HTTP/1.1 headers as a reverse proxy (issue 4): hop-by-hop stripping both ways, the
// Connection-named fields, Via, X-Forwarded-*, X-Request-ID, configured header rules
// with variables, header removal lists, and L7 routing. One rustlb, several frontends.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  backend,
  freePorts,
  frontend,
  get,
  type HttpUpstream,
  keepAliveAgent,
  lbConfig,
  RawConnection,
  RustlbProcess,
  type SeenRequest,
  startHttpUpstream,
} from '@rustlb/testkit';

let a: HttpUpstream;
let api: HttpUpstream;
let stat: HttpUpstream;
let wild: HttpUpstream;
let admin: HttpUpstream;
let p1: HttpUpstream;
let p2: HttpUpstream;
let lb: RustlbProcess;
let main: number;
let novia: number;
let trusted: number;
let routed: number;
let quiet: number;
let ruled: number;

before(async () => {
  [a, api, stat, wild, admin, p1, p2] = (await Promise.all(['a', 'api', 'static', 'wild', 'admin', 'p1', 'p2'].map((n) => startHttpUpstream(n)))) as [
    HttpUpstream,
    HttpUpstream,
    HttpUpstream,
    HttpUpstream,
    HttpUpstream,
    HttpUpstream,
    HttpUpstream,
  ];
  [main, novia, trusted, routed, quiet, ruled] = await freePorts(6);
  lb = await RustlbProcess.start({
    config: lbConfig({
      global: { access_log: false },
      frontends: [
        frontend('main', main, 'pool', {
          http: {
            request_headers: { 'X-Client': '$client_ip:$client_port', 'X-Backend': '$backend_name $backend_addr', 'X-Static': 'yes' },
            response_headers: { 'X-Served-By': '$backend_name at $backend_addr', 'X-Seen-Client': '$client_ip' },
            remove_request_headers: ['X-Secret'],
            remove_response_headers: ['X-Internal'],
          },
        }),
        frontend('novia', novia, 'pool', { http: { via: false } }),
        frontend('trusted', trusted, 'pool', { http: { trusted_proxies: ['127.0.0.0/8'] } }),
        frontend('quiet', quiet, 'pool', { http: { x_real_ip: false, served_by: false } }),
        frontend('ruled', ruled, 'pool', { http: { request_headers: { 'X-Real-IP': 'from-config' }, response_headers: { 'X-Served-By': 'edge' } } }),
        frontend('routed', routed, 'pool', {
          routes: [
            { host: 'api.example.com', backend: 'api' },
            { host: '*.example.com', path_prefix: '/static/', backend: 'static' },
            { path_prefix: '/admin', methods: ['POST', 'DELETE'], backend: 'admin' },
            { path_prefix: '/sticky', backend: 'pair', algorithm: 'ip_hash' },
            { path_prefix: '/rotate', backend: 'pair' },
            { host: '*.example.com', backend: 'wild' },
          ],
        }),
      ],
      backends: [
        backend('pool', [a.address]),
        backend('api', [api.address]),
        backend('static', [stat.address]),
        backend('wild', [wild.address]),
        backend('admin', [admin.address]),
        backend('pair', [p1.address, p2.address]),
      ],
    }),
  });
});

after(async () => {
  await lb?.dispose();
  await Promise.all([a, api, stat, wild, admin, p1, p2].map((u) => u?.close()));
});

/** Sends one request on a new connection and reads the response; returns it with what the upstream saw. */
async function exchange(port: number, head: string, body = '', up: HttpUpstream = a) {
  const before = up.requests.length;
  const conn = await RawConnection.open(port);
  const clientPort = conn.socket.localPort as number;
  conn.write(`${head}\r\n\r\n${body}`);
  const res = await conn.read();
  conn.destroy();
  const seen = up.requests.slice(before);
  return { res, seen: seen[0] as SeenRequest, count: seen.length, clientPort };
}

function rawNames(seen: SeenRequest): string[] {
  return seen.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
}

test('hop-by-hop request fields and every field Connection names are not forwarded', async () => {
  const { res, seen } = await exchange(
    main,
    [
      'GET /hop HTTP/1.1',
      'Host: hop.test',
      'Connection: keep-alive, X-Foo, x-bar',
      'Keep-Alive: timeout=5',
      'Proxy-Connection: keep-alive',
      'TE: trailers',
      'Trailer: X-T',
      'Upgrade: foo/1',
      'Proxy-Authorization: Basic Zm9vOmJhcg==',
      'X-Foo: 1',
      'X-Bar: 2',
      'X-Keep: 3',
    ].join('\r\n'),
  );
  assert.equal(res.status, 200);
  const names = rawNames(seen);
  for (const gone of ['keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'proxy-authorization', 'x-foo', 'x-bar']) {
    assert.ok(!names.includes(gone), `${gone} must not be forwarded: ${names.join(',')}`);
  }
  // undici may say keep-alive about its own connection; the client's tokens never pass.
  assert.ok(seen.headers.connection === undefined || seen.headers.connection === 'keep-alive', `connection: ${seen.headers.connection}`);
  assert.equal(seen.headers['x-keep'], '3');
  assert.equal(seen.headers.host, 'hop.test');
});

test('look-alikes of the framing fields (Content_Length, Transfer_Encoding) are not forwarded', async () => {
  const { res, seen } = await exchange(
    main,
    'POST /lookalike HTTP/1.1\r\nHost: l.test\r\nContent-Length: 5\r\nContent_Length: 99\r\nTransfer_Encoding: chunked\r\nX_Other: kept',
    'hello',
  );
  assert.equal(res.status, 200);
  const names = rawNames(seen);
  assert.ok(!names.includes('content_length') && !names.includes('transfer_encoding'), names.join(','));
  assert.equal(seen.headers.x_other, 'kept');
  assert.equal(seen.body.toString(), 'hello');
});

test('Connection cannot strip the proxy’s own fields, Host or Content-Length', async () => {
  const { res, seen } = await exchange(
    main,
    [
      'POST /own HTTP/1.1',
      'Host: own.test',
      'Connection: X-Forwarded-For, X-Forwarded-Proto, X-Forwarded-Host, Via, X-Request-ID, Host, Content-Length',
      'X-Forwarded-For: 6.6.6.6',
      'Content-Length: 5',
    ].join('\r\n'),
    'hello',
  );
  assert.equal(res.status, 200);
  assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
  assert.equal(seen.headers['x-forwarded-proto'], 'http');
  assert.equal(seen.headers['x-forwarded-host'], 'own.test');
  assert.equal(seen.headers.via, '1.1 rustlb');
  assert.equal(seen.headers.host, 'own.test');
  assert.match(String(seen.headers['x-request-id']), /^[A-Za-z0-9._~:+/=-]+$/);
  assert.equal(seen.body.toString(), 'hello');
});

test('hop-by-hop response fields and those the upstream’s Connection names are not returned; the client connection stays open', async () => {
  a.handler = (_req, res) => {
    res.setHeader('Connection', 'close, X-Up-Secret');
    res.setHeader('Keep-Alive', 'timeout=99');
    res.setHeader('X-Up-Secret', 'hidden');
    res.setHeader('Proxy-Authenticate', 'Basic');
    res.setHeader('Upgrade', 'foo/2');
    res.setHeader('Trailer', 'X-T');
    res.setHeader('X-Kept', 'yes');
    res.end('chunked body');
  };
  try {
    const conn = await RawConnection.open(main);
    for (let i = 0; i < 2; i++) {
      conn.write('GET /resp-hop HTTP/1.1\r\nHost: r.test\r\n\r\n');
      const res = await conn.read();
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), 'chunked body');
      const names = res.rawHeaders.map(([n]) => n.toLowerCase());
      for (const gone of ['x-up-secret', 'proxy-authenticate', 'upgrade', 'trailer']) assert.ok(!names.includes(gone), `${gone} returned: ${names.join(',')}`);
      assert.equal(res.headers['x-kept'], 'yes');
      // Connection and Keep-Alive, if present, are rustlb's own about this connection.
      assert.equal(res.headers.connection ?? 'keep-alive', 'keep-alive');
      assert.notEqual(res.headers['keep-alive'], 'timeout=99');
    }
    assert.equal(conn.ended, false);
    conn.destroy();
  } finally {
    a.handler = null;
  }
});

test('Via is added on requests and responses, after any existing value', async () => {
  a.handler = (_req, res) => {
    res.setHeader('Via', '1.1 backend-cache');
    res.end('v');
  };
  try {
    const { res, seen } = await exchange(main, 'GET /via HTTP/1.1\r\nHost: v.test\r\nVia: 1.0 corp-proxy');
    assert.equal(seen.headers.via, '1.0 corp-proxy, 1.1 rustlb');
    assert.equal(res.headers.via, '1.1 backend-cache, 1.1 rustlb');
    const plain = await exchange(main, 'GET /via2 HTTP/1.1\r\nHost: v.test');
    assert.equal(plain.seen.headers.via, '1.1 rustlb');
  } finally {
    a.handler = null;
  }
});

test('http.via: false adds no Via either way and passes existing ones unchanged', async () => {
  const plain = await exchange(novia, 'GET /novia HTTP/1.1\r\nHost: v.test');
  assert.equal(plain.seen.headers.via, undefined);
  assert.equal(plain.res.headers.via, undefined);
  const relayed = await exchange(novia, 'GET /novia2 HTTP/1.1\r\nHost: v.test\r\nVia: 1.0 corp-proxy');
  assert.equal(relayed.seen.headers.via, '1.0 corp-proxy');
});

test('X-Forwarded-For is appended (every incoming line), Proto and Host are set, Host is preserved', async () => {
  const { seen } = await exchange(
    main,
    'GET /xff HTTP/1.1\r\nHost: Shop.Example.COM:8443\r\nX-Forwarded-For: 10.0.0.1, 10.0.0.2\r\nX-Forwarded-For: 10.0.0.3\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: evil.test',
  );
  assert.equal(seen.headers['x-forwarded-for'], '10.0.0.1, 10.0.0.2, 10.0.0.3, 127.0.0.1');
  assert.equal(rawNames(seen).filter((n) => n === 'x-forwarded-for').length, 1);
  assert.equal(seen.headers['x-forwarded-proto'], 'http');
  assert.equal(seen.headers['x-forwarded-host'], 'Shop.Example.COM:8443');
  assert.equal(seen.headers.host, 'Shop.Example.COM:8443');
  const fresh = await exchange(main, 'GET /xff2 HTTP/1.1\r\nHost: x.test');
  assert.equal(fresh.seen.headers['x-forwarded-for'], '127.0.0.1');
});

test('trusted_proxies: X-Forwarded-Proto/-Host from a trusted peer are kept', async () => {
  const { seen } = await exchange(trusted, 'GET /trust HTTP/1.1\r\nHost: inner.test\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: public.example.com');
  assert.equal(seen.headers['x-forwarded-proto'], 'https');
  assert.equal(seen.headers['x-forwarded-host'], 'public.example.com');
  const none = await exchange(trusted, 'GET /trust2 HTTP/1.1\r\nHost: inner.test');
  assert.equal(none.seen.headers['x-forwarded-proto'], 'http');
  assert.equal(none.seen.headers['x-forwarded-host'], 'inner.test');
});

test('X-Request-ID: a sane one is kept, anything else replaced; sent upstream and returned', async () => {
  const sane = 'abc-123_x.y~z:+/=';
  const kept = await exchange(main, `GET /rid HTTP/1.1\r\nHost: r.test\r\nX-Request-ID: ${sane}`);
  assert.equal(kept.seen.headers['x-request-id'], sane);
  assert.equal(kept.res.headers['x-request-id'], sane);
  for (const bad of ['has space', 'x'.repeat(201), '<script>', 'semi;colon', '']) {
    const r = await exchange(main, `GET /rid-bad HTTP/1.1\r\nHost: r.test\r\nX-Request-ID: ${bad}`);
    const id = String(r.seen.headers['x-request-id']);
    assert.notEqual(id, bad.trim());
    assert.match(id, /^[A-Za-z0-9._~:+/=-]{1,200}$/);
    assert.equal(r.res.headers['x-request-id'], id);
  }
  const g1 = await exchange(main, 'GET /rid-new HTTP/1.1\r\nHost: r.test');
  const g2 = await exchange(main, 'GET /rid-new HTTP/1.1\r\nHost: r.test');
  assert.equal(g1.res.headers['x-request-id'], g1.seen.headers['x-request-id']);
  assert.notEqual(g1.res.headers['x-request-id'], g2.res.headers['x-request-id']);
  // The upstream cannot replace the request id on the way back.
  a.handler = (_req, res) => {
    res.setHeader('X-Request-ID', 'from-upstream');
    res.end('x');
  };
  try {
    const r = await exchange(main, `GET /rid-up HTTP/1.1\r\nHost: r.test\r\nX-Request-ID: ${sane}`);
    assert.equal(r.res.headers['x-request-id'], sane);
  } finally {
    a.handler = null;
  }
});

test('request_headers and response_headers render $client_ip, $client_port, $backend_name, $backend_addr and replace client/upstream values', async () => {
  a.handler = (_req, res) => {
    res.setHeader('X-Served-By', 'upstream-says');
    res.end('ok');
  };
  try {
    const { res, seen, clientPort } = await exchange(main, 'GET /rules HTTP/1.1\r\nHost: r.test\r\nX-Static: no\r\nX-Client: forged');
    assert.equal(seen.headers['x-client'], `127.0.0.1:${clientPort}`);
    assert.equal(seen.headers['x-backend'], `pool ${a.address}`);
    assert.equal(seen.headers['x-static'], 'yes');
    assert.equal(rawNames(seen).filter((n) => n === 'x-static').length, 1);
    assert.equal(res.headers['x-served-by'], `pool at ${a.address}`);
    assert.equal(res.headers['x-seen-client'], '127.0.0.1');
  } finally {
    a.handler = null;
  }
});

test("X-Real-IP (the client's address) on requests and X-Served-By: BACKEND:ADDRESS on responses, by default, as the original sent them", async () => {
  a.handler = (_req, res) => {
    res.setHeader('X-Served-By', 'upstream-says');
    res.end('ok');
  };
  try {
    const { res, seen } = await exchange(novia, 'GET /real HTTP/1.1\r\nHost: r.test\r\nX-Real-IP: 6.6.6.6');
    assert.equal(seen.headers['x-real-ip'], '127.0.0.1');
    assert.equal(rawNames(seen).filter((n) => n === 'x-real-ip').length, 1);
    assert.equal(res.headers['x-served-by'], `pool:${a.address}`);
    assert.equal(res.raw.match(/^x-served-by:/gim)?.length, 1);
  } finally {
    a.handler = null;
  }
});

test('http.x_real_ip: false and http.served_by: false add neither and pass what the client and the server sent', async () => {
  a.handler = (_req, res) => {
    res.setHeader('X-Served-By', 'upstream-says');
    res.end('ok');
  };
  try {
    const plain = await exchange(quiet, 'GET /quiet HTTP/1.1\r\nHost: r.test');
    assert.equal(plain.seen.headers['x-real-ip'], undefined);
    assert.equal(plain.res.headers['x-served-by'], 'upstream-says');
    const relayed = await exchange(quiet, 'GET /quiet2 HTTP/1.1\r\nHost: r.test\r\nX-Real-IP: 10.1.2.3');
    assert.equal(relayed.seen.headers['x-real-ip'], '10.1.2.3');
  } finally {
    a.handler = null;
  }
  const none = await exchange(quiet, 'GET /quiet3 HTTP/1.1\r\nHost: r.test');
  assert.equal(none.res.headers['x-served-by'], undefined);
});

test('a configuration that sets X-Real-IP or X-Served-By itself keeps its values', async () => {
  const { res, seen } = await exchange(ruled, 'GET /ruled HTTP/1.1\r\nHost: r.test\r\nX-Real-IP: 6.6.6.6');
  assert.equal(seen.headers['x-real-ip'], 'from-config');
  assert.equal(rawNames(seen).filter((n) => n === 'x-real-ip').length, 1);
  assert.equal(res.headers['x-served-by'], 'edge');
  assert.equal(res.raw.match(/^x-served-by:/gim)?.length, 1);
});

test('remove_request_headers and remove_response_headers drop those fields', async () => {
  a.handler = (_req, res) => {
    res.setHeader('X-Internal', 'secret');
    res.setHeader('x-internal-not', 'kept');
    res.end('ok');
  };
  try {
    const { res, seen } = await exchange(main, 'GET /remove HTTP/1.1\r\nHost: r.test\r\nx-SECRET: 1\r\nX-Secretive: 2');
    assert.equal(seen.headers['x-secret'], undefined);
    assert.equal(seen.headers['x-secretive'], '2');
    assert.equal(res.headers['x-internal'], undefined);
    assert.equal(res.headers['x-internal-not'], 'kept');
  } finally {
    a.handler = null;
  }
});

async function servedBy(head: string): Promise<string> {
  const conn = await RawConnection.open(routed);
  conn.write(`${head}\r\n\r\n`);
  const res = await conn.read();
  conn.destroy();
  assert.equal(res.status, 200, res.raw);
  return res.body.toString().trim();
}

test('routes: exact host (case and port ignored), *.suffix at any depth, path_prefix, methods, fallback, first match wins', async () => {
  assert.equal(await servedBy('GET / HTTP/1.1\r\nHost: api.example.com'), 'api');
  assert.equal(await servedBy('GET /x HTTP/1.1\r\nHost: API.Example.COM:8080'), 'api');
  assert.equal(await servedBy('GET /static/app.js HTTP/1.1\r\nHost: cdn.example.com'), 'static');
  assert.equal(await servedBy('GET /static/app.js HTTP/1.1\r\nHost: a.b.c.example.com:443'), 'static');
  // api.example.com is listed first, so its /static/ goes there.
  assert.equal(await servedBy('GET /static/app.js HTTP/1.1\r\nHost: api.example.com'), 'api');
  assert.equal(await servedBy('GET /other HTTP/1.1\r\nHost: deep.sub.example.com'), 'wild');
  // *.example.com does not match the bare domain, nor a look-alike.
  assert.equal(await servedBy('GET /other HTTP/1.1\r\nHost: example.com'), 'a');
  assert.equal(await servedBy('GET /other HTTP/1.1\r\nHost: badexample.com'), 'a');
  assert.equal(await servedBy('POST /admin/users HTTP/1.1\r\nHost: x.test\r\nContent-Length: 0'), 'admin');
  assert.equal(await servedBy('DELETE /admin HTTP/1.1\r\nHost: x.test'), 'admin');
  assert.equal(await servedBy('GET /admin/users HTTP/1.1\r\nHost: x.test'), 'a');
  // Absolute-form: the target's authority is the host.
  assert.equal(await servedBy('GET http://api.example.com/abs HTTP/1.1\r\nHost: api.example.com'), 'api');
  // path_prefix is matched against the target's path, not its absolute form: /admin is not bypassed.
  const before = admin.requests.length;
  assert.equal(await servedBy('DELETE http://x.test/admin/u?q=1 HTTP/1.1\r\nHost: x.test'), 'admin');
  assert.equal(admin.requests[before]?.url, '/admin/u?q=1');
  assert.equal(await servedBy('DELETE http://x.test?/admin HTTP/1.1\r\nHost: x.test'), 'a');
});

test('routes: a per-route algorithm (ip_hash) beside the frontend’s round_robin on the same backend', async () => {
  const agent = keepAliveAgent();
  try {
    const sticky = new Set<string>();
    const rotate: string[] = [];
    for (let i = 0; i < 6; i++) sticky.add((await get(routed, { path: '/sticky', agent })).text.trim());
    for (let i = 0; i < 6; i++) rotate.push((await get(routed, { path: '/rotate', agent })).text.trim());
    assert.equal(sticky.size, 1, `ip_hash sent one client to ${[...sticky].join(',')}`);
    assert.equal(rotate.filter((n) => n === 'p1').length, 3, rotate.join(','));
    assert.equal(rotate.filter((n) => n === 'p2').length, 3, rotate.join(','));
  } finally {
    agent.destroy();
  }
});

test('no worker crashed on the way', () => {
  assert.deepEqual(
    lb.logs.filter((l) => l.level === 'fatal' || /died unexpectedly/.test(String(l.msg))),
    [],
  );
});
