#!/usr/bin/env node
// A featureless measuring stick: what Node's building blocks cost for proxying, with none
// of rustlb's features (no health checks, metrics, logging, header rules, timeouts, retries
// or validation beyond Node's and undici's own). A node:cluster of node:http servers, each
// relaying to the upstreams in turn through undici `Pool.dispatch`, as rustlb does.
// Not a proxy to run: it forwards hop-by-hop headers and handles no error but by a 502.
// `npm run bench -- --node-stick` runs it beside rustlb.
//   node scripts/node-stick.mjs PORT WORKERS UPSTREAM_PORT...
import cluster from 'node:cluster';
import http from 'node:http';
import { createRequire } from 'node:module';

const [port, workers, ...upstreams] = process.argv.slice(2);
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
        { method: req.method, path: req.url, headers: req.rawHeaders, body: req.method === 'GET' || req.method === 'HEAD' ? null : req },
        {
          onConnect() {},
          onHeaders(status, rawHeaders, resume) {
            const headers = [];
            for (let i = 0; i < rawHeaders.length; i += 2) headers.push(rawHeaders[i].toString('latin1'), rawHeaders[i + 1].toString('latin1'));
            res.writeHead(status, headers);
            res.on('drain', resume);
            return true;
          },
          onData(chunk) {
            return res.write(chunk);
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
