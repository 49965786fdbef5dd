#!/usr/bin/env node
// Two Node measuring sticks for `npm run bench`, each a node:cluster of node:http servers
// with the same scheduling as rustlb's default (the kernel spreads accepts):
//
//   ceiling PORT WORKERS             node:http answering by itself (13 bytes, like the
//                                    bench's nginx upstreams), with no upstream side: a
//                                    proxy does this and a client half on top, so no proxy
//                                    built on node:http can go faster (--node-ceiling).
//   stick PORT WORKERS UPSTREAM...   a featureless proxy: node:http relaying to the upstreams
//                                    in turn through undici `Pool.dispatch`, as rustlb does,
//                                    with no health checks, metrics, logging, header rules,
//                                    timeouts, retries or validation beyond Node's and
//                                    undici's own: what rustlb's features cost (--node-stick).
//
// The stick is not a proxy to run: it drops only Connection and Keep-Alive (each side keeps
// its own connection semantics), applies no backpressure (a 13-byte body needs none, and
// undici 7 crashes when a paused response's connection closes: see
// packages/proxy/src/undici.ts) and handles every error by a 502.
import cluster from 'node:cluster';
import http from 'node:http';
import { createRequire } from 'node:module';

const [kind, port, workers, ...upstreams] = process.argv.slice(2);
cluster.schedulingPolicy = cluster.SCHED_NONE;
if (cluster.isPrimary) {
  for (let i = 0; i < Number(workers); i++) cluster.fork();
  process.on('SIGTERM', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.kill();
    process.exit(0);
  });
} else {
  http.createServer(kind === 'ceiling' ? (_req, res) => res.end('Hello, World!') : relay(upstreams)).listen(Number(port), '127.0.0.1');
}

function relay(upstreamPorts) {
  const HOP = new Set(['connection', 'keep-alive']);
  const Pool = createRequire(import.meta.url)('undici/lib/dispatcher/pool.js');
  const pools = upstreamPorts.map((p) => new Pool(`http://127.0.0.1:${p}`, { connections: null, pipelining: 1 }));
  let next = 0;
  const withoutHop = (raw) => {
    const out = [];
    for (let i = 0; i < raw.length; i += 2) if (!HOP.has(raw[i].toLowerCase())) out.push(raw[i], raw[i + 1]);
    return out;
  };
  return (req, res) => {
    const pool = pools[next];
    next = (next + 1) % pools.length;
    pool.dispatch(
      { method: req.method, path: req.url, headers: withoutHop(req.rawHeaders), body: req.method === 'GET' || req.method === 'HEAD' ? null : req },
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
  };
}
