#!/usr/bin/env node
// A featureless measuring stick: what Node's building blocks cost for proxying, with none
// of rustlb's features (no health checks, metrics, logging, header rules, timeouts, retries
// or validation beyond Node's and undici's own). A node:cluster of node:http servers, each
// relaying to the upstreams in turn through undici `Pool.dispatch`, as rustlb does.
// Not a proxy to run: it drops only Connection and Keep-Alive (each side of the proxy keeps
// its own connection semantics), applies no backpressure (a 13-byte body needs none, and
// undici 7 crashes when a paused response's connection closes: see
// packages/proxy/src/undici.ts) and handles every error by a 502.
// `npm run bench -- --node-stick` runs it beside rustlb.
//   node scripts/node-stick.mjs PORT WORKERS UPSTREAM_PORT...
import cluster from 'node:cluster';
import http from 'node:http';
import { createRequire } from 'node:module';

const [port, workers, ...upstreams] = process.argv.slice(2);
const HOP = new Set(['connection', 'keep-alive']);
cluster.schedulingPolicy = cluster.SCHED_NONE;
if (cluster.isPrimary) {
  for (let i = 0; i < Number(workers); i++) cluster.fork();
  process.on('SIGTERM', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.kill();
    process.exit(0);
  });
} else {
  const Pool = createRequire(import.meta.url)('undici/lib/dispatcher/pool.js');
  const pools = upstreams.map((p) => new Pool(`http://127.0.0.1:${p}`, { connections: null, pipelining: 1 }));
  let next = 0;
  http
    .createServer((req, res) => {
      const pool = pools[next];
      next = (next + 1) % pools.length;
      pool.dispatch(
        { method: req.method, path: req.url, headers: withoutConnection(req.rawHeaders), body: req.method === 'GET' || req.method === 'HEAD' ? null : req },
        {
          onConnect() {},
          onHeaders(status, rawHeaders) {
            const headers = [];
            for (let i = 0; i < rawHeaders.length; i += 2) {
              const name = rawHeaders[i].toString('latin1');
              if (!HOP.has(name.toLowerCase())) headers.push(name, rawHeaders[i + 1].toString('latin1'));
            }
            res.writeHead(status, headers);
            return true;
          },
          onData(chunk) {
            res.write(chunk);
            return true;
          },
          onComplete() {
            res.end();
          },
          onError() {
            if (!res.headersSent) res.writeHead(502);
            res.end();
          },
        },
      );
    })
    .listen(Number(port), '127.0.0.1');
}

function withoutConnection(raw) {
  const out = [];
  for (let i = 0; i < raw.length; i += 2) if (!HOP.has(raw[i].toLowerCase())) out.push(raw[i], raw[i + 1]);
  return out;
}
