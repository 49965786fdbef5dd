#!/usr/bin/env node
// `npm run bench`: rustlb's own benchmark, for quick A/B work on this machine.
// Two nginx upstreams (13-byte body, keep-alive) if nginx is installed, else two Node
// upstreams; rustlb in front; wrk against it with keep-alive and with a new connection
// per request; per-worker request counts from the metrics endpoint (distribution).
// For the side-by-side comparison with HAProxy, nginx and Node peers use
// ../shared/bench/run.sh (see docs/performance.md).
//
//   npm run bench                          # default config, both modes
//   npm run bench -- --sched rr            # NODE_CLUSTER_SCHED_POLICY=rr
//   npm run bench -- --mode close -d 10    # only new-connection mode, 10 s
//   npm run bench -- --haproxy                # also HAProxy (nbthread 2) in the same rounds, with ratios
//   npm run bench -- --config-extra access_log=false,metrics=false,headers=true,log_level=info
// (log_level=info makes the access log count: at the default warn its lines are dropped)
//   npm run bench -- --node-ceiling       # also node:http answering by itself (scripts/bench-sticks.mjs):
//                                         # the most any proxy built on node:http can do here
//   npm run bench -- --node-stick         # also a featureless node:http + undici proxy (scripts/bench-sticks.mjs):
//                                         # what rustlb's features cost on top of Node's building blocks
//   npm run bench -- --mode memory        # idle RSS/PSS per process, then 10,000 idle keep-alive
//                                         # client connections (--idle N) and requests served meanwhile
//   npm run bench -- --mode soak -d 300   # keep-alive load for 300 s; the cluster's RSS every 15 s
//                                         # and its trend (a leak shows as a steady rise)
//   npm run bench -- --mode tls --haproxy # HTTPS: keep-alive and a new handshake per request, beside
//                                         # HAProxy's `bind ... ssl crt` with the same certificate (made with openssl)
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const root = join(import.meta.dirname, '..');
const { values: opt } = parseArgs({
  options: {
    duration: { type: 'string', short: 'd', default: '5' },
    connections: { type: 'string', short: 'c', default: '64' },
    workers: { type: 'string', short: 'w', default: '2' },
    sched: { type: 'string', default: '' },
    mode: { type: 'string', default: 'both' },
    'config-extra': { type: 'string', default: '' },
    rounds: { type: 'string', short: 'r', default: '1' },
    haproxy: { type: 'boolean', default: false },
    'node-ceiling': { type: 'boolean', default: false },
    'node-stick': { type: 'boolean', default: false },
    idle: { type: 'string', default: '10000' },
  },
});

// Ports handed out once: two calls in a row may otherwise get the same ephemeral port.
const given = new Set();
const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => {
        if (given.has(port)) return freePort().then(resolve);
        given.add(port);
        resolve(port);
      });
    });
  });

const hasNginx = spawnSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' }).status === 0;
if (spawnSync('sh', ['-c', 'command -v wrk'], { encoding: 'utf8' }).status !== 0) {
  console.error('bench: wrk is missing (apt-get install wrk)');
  process.exit(2);
}
const dir = mkdtempSync(join(tmpdir(), 'rustlb-bench-'));
const children = [];
const cleanup = () => {
  // SIGTERM, not SIGKILL: a killed nginx master leaves its workers running (and listening).
  for (const c of children) c.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
};
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));

async function upstream(port, i) {
  if (hasNginx) {
    const d = join(dir, `nginx-${i}`);
    spawnSync('mkdir', ['-p', d]);
    writeFileSync(
      join(d, 'nginx.conf'),
      `daemon off; worker_processes 1; pid ${d}/nginx.pid; error_log ${d}/error.log warn;
events { worker_connections 16384; }
http { access_log off; keepalive_timeout 75s; keepalive_requests 10000000;
  client_body_temp_path ${d}; proxy_temp_path ${d}; fastcgi_temp_path ${d}; uwsgi_temp_path ${d}; scgi_temp_path ${d};
  server { listen 127.0.0.1:${port}; location = /health { return 200 "ok\\n"; } location / { return 200 "Hello, World!"; } } }`,
    );
    children.push(spawn('nginx', ['-p', d, '-c', join(d, 'nginx.conf')], { stdio: 'ignore' }));
  } else {
    children.push(spawn(process.execPath, [join(root, 'scripts/demo-upstream.mjs'), String(port)], { stdio: 'ignore' }));
  }
}

async function waitHttp(port) {
  for (let i = 0; i < 200; i++) {
    const r = spawnSync('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${port}/readyz`], { encoding: 'utf8' });
    if (r.stdout === '200') return;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`nothing answered 200 on 127.0.0.1:${port}/readyz`);
}

/** A 1 s warm-up (JIT, connection pools), then the measured run. */
function wrk(port, close, scheme = 'http') {
  const args = ['-t1', `-c${opt.connections}`, '--latency'];
  if (close) args.push('-H', 'Connection: close');
  execFileSync('wrk', [...args, '-d1s', `${scheme}://127.0.0.1:${port}/`], { encoding: 'utf8' });
  const out = execFileSync('wrk', [...args, `-d${opt.duration}s`, `${scheme}://127.0.0.1:${port}/`], { encoding: 'utf8' });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
  const p50 = /50%\s+([\d.]+\w+)/.exec(out)?.[1] ?? '?';
  const p99 = /99%\s+([\d.]+\w+)/.exec(out)?.[1] ?? '?';
  const errors = /Socket errors: (.*)/.exec(out)?.[1] ?? 'none';
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  return { rps, p50, p99, errors, non2xx };
}

function perWorker(metricsPort) {
  const text = execFileSync('curl', ['-s', `http://127.0.0.1:${metricsPort}/metrics`], { encoding: 'utf8' });
  return [...text.matchAll(/^rustlb_worker_requests_total\{worker="(\d+)"\} (\d+)/gm)].map((m) => Number(m[2]));
}

const [u1, u2, port, metricsPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
const tlsMode = opt.mode === 'tls';
const tlsPort = tlsMode ? await freePort() : null;
const haproxyTlsPort = tlsMode && opt.haproxy ? await freePort() : null;
if (tlsMode) {
  // One EC P-256 certificate for both contenders; HAProxy wants certificate and key in one file.
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=bench.test',
      '-addext',
      'subjectAltName=DNS:bench.test,IP:127.0.0.1',
      '-keyout',
      join(dir, 'bench.key'),
      '-out',
      join(dir, 'bench.crt'),
    ],
    { stdio: 'ignore' },
  );
  writeFileSync(join(dir, 'bench.pem'), readFileSync(join(dir, 'bench.crt'), 'utf8') + readFileSync(join(dir, 'bench.key'), 'utf8'));
}
await upstream(u1, 1);
await upstream(u2, 2);
const extra = Object.fromEntries(
  opt['config-extra']
    .split(',')
    .filter(Boolean)
    .map((kv) => kv.split('=')),
);
const headers =
  extra.headers === 'true'
    ? `
    http:
      request_headers: { X-Real-IP: "$client_ip", X-Backend: "$backend_name" }
      response_headers: { X-Served-By: "$backend_addr" }
      remove_request_headers: [X-Debug]`
    : '';
const config = join(dir, 'rustlb.yaml');
writeFileSync(
  config,
  `global:
  log_level: ${extra.log_level ?? 'warn'}
  access_log: ${extra.access_log ?? 'true'}
  metrics: { enabled: ${extra.metrics ?? 'true'}, address: "127.0.0.1:${metricsPort}" }
  admin: { socket: "${join(dir, 'ctl.sock')}" }
frontends:
  - name: web
    listen: "127.0.0.1:${port}"
    protocol: http
    backend: app${headers}${
      tlsPort === null
        ? ''
        : `
  - name: web-tls
    listen: "127.0.0.1:${tlsPort}"
    protocol: http
    backend: app
    tls: { certificates: [ { cert: "${join(dir, 'bench.crt')}", key: "${join(dir, 'bench.key')}" } ] }`
    }
backends:
  - name: app
    servers: [ { address: "127.0.0.1:${u1}" }, { address: "127.0.0.1:${u2}" } ]
    health_check: { type: http, path: /health, interval: 2s, timeout: 1s }
`,
);
const env = { ...process.env };
if (opt.sched !== '') env.NODE_CLUSTER_SCHED_POLICY = opt.sched;
// Access lines go to /dev/null, as they would to a log shipper that keeps up.
const lb = spawn(process.execPath, [join(root, 'bin/rustlb'), '-c', config, '--workers', opt.workers], { env, stdio: ['ignore', 'ignore', 'inherit'] });
children.push(lb);
await waitHttp(metricsPort);

let haproxyPort = null;
if (opt.haproxy) {
  if (spawnSync('sh', ['-c', 'command -v haproxy'], { encoding: 'utf8' }).status !== 0) {
    console.error('bench: --haproxy needs haproxy (apt-get install haproxy)');
    process.exit(2);
  }
  haproxyPort = await freePort();
  // The shared bench's HAProxy setup: 2 threads, keep-alive, connection reuse, checks.
  writeFileSync(
    join(dir, 'haproxy.cfg'),
    `global
  nbthread 2
  maxconn 8000
defaults
  mode http
  option http-keep-alive
  http-reuse always
  timeout connect 2s
  timeout client 30s
  timeout server 30s
frontend web
  bind 127.0.0.1:${haproxyPort}
  default_backend app
${haproxyTlsPort === null ? '' : `frontend web-tls\n  bind 127.0.0.1:${haproxyTlsPort} ssl crt ${join(dir, 'bench.pem')} ssl-min-ver TLSv1.2\n  default_backend app\n`}backend app
  balance roundrobin
  option httpchk GET /health
  http-check expect status 200
  server s1 127.0.0.1:${u1} check inter 2s
  server s2 127.0.0.1:${u2} check inter 2s
`,
  );
  children.push(spawn('haproxy', ['-db', '-f', join(dir, 'haproxy.cfg')], { stdio: ['ignore', 'ignore', 'inherit'] }));
  await waitHttp(haproxyPort);
}

let ceilingPort = null;
let ceiling = null;
if (opt['node-ceiling']) {
  ceilingPort = await freePort();
  ceiling = spawn(process.execPath, [join(root, 'scripts/bench-sticks.mjs'), 'ceiling', String(ceilingPort), opt.workers], { stdio: 'ignore' });
  children.push(ceiling);
  await waitHttp(ceilingPort);
}

let stickPort = null;
let stick = null;
if (opt['node-stick']) {
  stickPort = await freePort();
  stick = spawn(process.execPath, [join(root, 'scripts/bench-sticks.mjs'), 'stick', String(stickPort), opt.workers, String(u1), String(u2)], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(stick);
  await waitHttp(stickPort);
}

if (opt.mode === 'memory') {
  await memory();
} else if (opt.mode === 'soak') {
  await soak();
} else {
  const modes = opt.mode === 'both' || tlsMode ? ['keep-alive', 'close'] : [opt.mode === 'close' ? 'close' : 'keep-alive'];
  const scheme = tlsMode ? 'https' : 'http';
  const target = tlsMode ? tlsPort : port;
  const haTarget = tlsMode ? haproxyTlsPort : haproxyPort;
  console.log(
    `rustlb bench: ${opt.workers} workers, sched=${opt.sched || 'default'}, upstreams=${hasNginx ? 'nginx' : 'node'}, wrk -c${opt.connections} -d${opt.duration}s, extra=${opt['config-extra'] || '-'}`,
  );
  console.log('| contender | mode | req/s | ×HAProxy | p50 | p99 | non-2xx | socket errors | requests per worker |');
  console.log('|---|---|--:|--:|--:|--:|--:|---|---|');
  const row = (name, mode, res, ha, split = '-') =>
    console.log(
      `| ${name} | ${mode} | ${Math.round(res.rps).toLocaleString('en')} | ${ha === null ? '-' : (res.rps / ha.rps).toFixed(2)} | ${res.p50} | ${res.p99} | ${res.non2xx} | ${res.errors} | ${split} |`,
    );
  for (let r = 0; r < Number(opt.rounds); r++) {
    for (const mode of modes) {
      const close = mode === 'close';
      const ha = haTarget === null ? null : wrk(haTarget, close, scheme);
      if (ha !== null) row('haproxy', mode, ha, ha);
      if (ceilingPort !== null) row('node:http alone (ceiling)', mode, wrk(ceilingPort, close), ha);
      if (stickPort !== null) row('node:http + undici, no features', mode, wrk(stickPort, close), ha);
      const before = opt['config-extra'].includes('metrics=false') ? [] : perWorker(metricsPort);
      const res = wrk(target, close, scheme);
      const after = opt['config-extra'].includes('metrics=false') ? [] : perWorker(metricsPort);
      row(
        tlsMode ? 'rustlb (TLS)' : 'rustlb',
        tlsMode ? `${mode} (https${close ? ', a handshake per request' : ''})` : mode,
        res,
        ha,
        after.map((v, i) => v - (before[i] ?? 0)).join(' / ') || '-',
      );
    }
  }
}
lb.kill('SIGTERM');
await new Promise((r) => lb.once('exit', r));
process.exit(0);

/** A process and its children (a cluster: the primary, then its workers). */
function processTree(pid) {
  const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  return [pid, ...kids];
}

/**
 * RSS counts in every process the pages of the node binary it has touched (code and
 * read-only data, about 33 MB for Node alone here), which all the cluster's processes
 * share; private is what the process alone holds (heap, stacks, its own allocations).
 */
function memOf(pid) {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const mb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0) / 1024;
  const rss = mb('Rss');
  const priv = mb('Private_Clean') + mb('Private_Dirty');
  return { rss, priv, shared: rss - priv };
}

/** Opens `n` keep-alive connections, each sends one request and waits for its answer; resolves with the sockets, still open. */
async function holdIdle(targetPort, n) {
  const sockets = [];
  let answered = 0;
  let opened = 0;
  await new Promise((resolve, reject) => {
    const open = () => {
      if (opened === n) return;
      opened++;
      const s = connect(targetPort, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nHost: bench\r\n\r\n'));
      s.once('data', () => {
        if (++answered === n) resolve();
        open();
      });
      s.on('error', reject);
      sockets.push(s);
    };
    for (let i = 0; i < Math.min(200, n); i++) open();
  });
  return sockets;
}

/** `count` requests, each on a new connection, one after another: how many got 200, and the slowest. */
async function freshRequests(targetPort, count) {
  let ok = 0;
  let slowest = 0;
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    const status = await new Promise((resolve) => {
      const req = request({ host: '127.0.0.1', port: targetPort, path: '/', agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      });
      req.setTimeout(5000, () => req.destroy());
      req.on('error', () => resolve(0));
      req.end();
    });
    slowest = Math.max(slowest, performance.now() - t0);
    if (status === 200) ok++;
  }
  return { ok, slowest };
}

/** wrk for the whole duration in the background; the RSS of rustlb's processes every 15 s, then a least-squares slope. */
async function soak() {
  const seconds = Number(opt.duration);
  const pids = processTree(lb.pid);
  const rssMb = () => pids.reduce((sum, pid) => sum + memOf(pid).rss, 0);
  const samples = [[0, rssMb()]];
  const load = spawn('wrk', ['-t1', `-c${opt.connections}`, `-d${seconds}s`, `http://127.0.0.1:${port}/`], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  load.stdout.on('data', (d) => {
    out += d;
  });
  const finished = new Promise((r) => load.once('exit', r));
  const started = performance.now();
  while (performance.now() - started < seconds * 1000) {
    await new Promise((r) => setTimeout(r, Math.min(15_000, seconds * 1000 - (performance.now() - started) + 100)));
    samples.push([(performance.now() - started) / 1000, rssMb()]);
  }
  await finished;
  const under = samples.slice(1);
  const n = under.length;
  const mx = under.reduce((a, [x]) => a + x, 0) / n;
  const my = under.reduce((a, [, y]) => a + y, 0) / n;
  const slope = under.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0) / under.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  console.log(
    `soak: ${opt.workers} workers, wrk -c${opt.connections} for ${seconds} s: ${/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? '?'} req/s, ${/(\d+) requests in/.exec(out)?.[1] ?? '?'} requests`,
  );
  console.log(`RSS of the ${pids.length} processes (MB): ${samples.map(([t, v]) => `${Math.round(t)}s ${v.toFixed(0)}`).join(', ')}`);
  console.log(
    `trend under load: ${(slope * 60).toFixed(2)} MB per minute (min ${Math.min(...under.map(([, y]) => y)).toFixed(0)}, max ${Math.max(...under.map(([, y]) => y)).toFixed(0)})`,
  );
}

async function memory() {
  const n = Number(opt.idle);
  const contenders = [['rustlb', lb.pid, port]];
  if (ceiling !== null) contenders.push(['node:http alone (ceiling)', ceiling.pid, ceilingPort]);
  if (stick !== null) contenders.push(['node:http + undici, no features', stick.pid, stickPort]);
  // Let start-up garbage go and the first health checks run.
  await new Promise((r) => setTimeout(r, 3000));
  const f = (v) => v.toFixed(1);
  console.log(`memory: ${opt.workers} workers, ${n} idle keep-alive client connections, upstreams=${hasNginx ? 'nginx' : 'node'}`);
  console.log('| contender | process | idle RSS MB | of which shared | idle private MB | RSS with idle conns | private with idle conns |');
  console.log('|---|---|--:|--:|--:|--:|--:|');
  for (const [name, pid, target] of contenders) {
    const pids = processTree(pid);
    const idle = pids.map(memOf);
    const sockets = await holdIdle(target, n);
    await new Promise((r) => setTimeout(r, 2000));
    const held = pids.map(memOf);
    const meanwhile = await freshRequests(target, 50);
    for (const s of sockets) s.destroy();
    const sum = (list, k) => list.reduce((a, m) => a + m[k], 0);
    pids.forEach((_pid, i) => {
      const role = i === 0 ? 'primary' : `worker ${i}`;
      console.log(`| ${name} | ${role} | ${f(idle[i].rss)} | ${f(idle[i].shared)} | ${f(idle[i].priv)} | ${f(held[i].rss)} | ${f(held[i].priv)} |`);
    });
    console.log(
      `| ${name} | all | ${f(sum(idle, 'rss'))} | ${f(sum(idle, 'shared'))} | ${f(sum(idle, 'priv'))} | ${f(sum(held, 'rss'))} (+${f(sum(held, 'rss') - sum(idle, 'rss'))}) | ${f(sum(held, 'priv'))} (+${f(sum(held, 'priv') - sum(idle, 'priv'))}) |`,
    );
    console.log(`| ${name} | meanwhile | ${meanwhile.ok} of 50 new-connection requests answered 200, slowest ${f(meanwhile.slowest)} ms | | | | |`);
  }
}
