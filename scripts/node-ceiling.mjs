#!/usr/bin/env node
// The ceiling for any proxy built on node:http on this machine: a node:cluster of node:http
// servers answering by themselves (13 bytes, like the bench's nginx upstreams), with no
// upstream side, no health checks, no metrics. A proxy does this and a client half on top,
// so it cannot go faster. `npm run bench -- --node-ceiling` runs it beside rustlb.
//   node scripts/node-ceiling.mjs PORT [WORKERS]
import cluster from 'node:cluster';
import http from 'node:http';

const [port, workers = '2'] = process.argv.slice(2);
// The same scheduling as rustlb's default: the kernel spreads accepts.
cluster.schedulingPolicy = cluster.SCHED_NONE;
if (cluster.isPrimary) {
  for (let i = 0; i < Number(workers); i++) cluster.fork();
  process.on('SIGTERM', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.kill();
    process.exit(0);
  });
} else {
  http.createServer((_req, res) => res.end('Hello, World!')).listen(Number(port), '127.0.0.1');
}
