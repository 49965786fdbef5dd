#!/usr/bin/env node
// A tiny upstream for the demo: answers every request with its own name, and 200 on /health.
// usage: node scripts/demo-upstream.mjs PORT [NAME]
import { createServer } from 'node:http';

const port = Number(process.argv[2] ?? 9001);
const name = process.argv[3] ?? `upstream-${port}`;
const server = createServer((req, res) => {
  if (req.url === '/health') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok\n');
    return;
  }
  req.resume();
  req.on('end', () => {
    const body = `hello from ${name} (${req.method} ${req.url})\n`;
    res.writeHead(200, { 'content-type': 'text/plain', 'x-upstream': name });
    res.end(body);
  });
});
server.listen(port, '127.0.0.1', () => console.log(`${name} listening on 127.0.0.1:${port} (pid ${process.pid})`));
for (const s of ['SIGINT', 'SIGTERM']) {
  process.on(s, () =>
    server.close(() => {
      console.log(`${name} stopped`);
      process.exit(0);
    }),
  );
}
