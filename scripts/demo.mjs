#!/usr/bin/env node
// `npm start`: two demo upstreams on 127.0.0.1:9001 and :9002, and rustlb in front of them
// on config/rustlb.yaml. Try: curl localhost:8080/   (answers alternate between the two)
// Ctrl-C stops all three. Extra arguments go to rustlb (e.g. npm start -- --workers 4).
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const upstreams = [9001, 9002].map((port, i) =>
  spawn(process.execPath, [join(root, 'scripts/demo-upstream.mjs'), String(port), `upstream-${i + 1}`], { stdio: 'inherit' }),
);
const rustlb = spawn(process.execPath, [join(root, 'bin/rustlb'), '--config', join(root, 'config/rustlb.yaml'), ...process.argv.slice(2)], {
  stdio: 'inherit',
});
const stopUpstreams = () => {
  for (const u of upstreams) u.kill('SIGTERM');
};
rustlb.on('exit', (code, signal) => {
  stopUpstreams();
  process.exitCode = code ?? (signal ? 1 : 0);
});
// The terminal sends Ctrl-C to the whole process group; rustlb handles its own shutdown.
for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => rustlb.kill(s));
