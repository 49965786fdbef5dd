#!/usr/bin/env node
// `npm start`: two demo upstreams on 127.0.0.1:9001 and :9002, and rustlb in front of them
// on config/rustlb.yaml. Try: curl localhost:8080/ localhost:8080/   (one connection, so
// one worker answers, and the two answers come from the two upstreams in turn).
// Extra arguments go to rustlb (e.g. npm start -- --workers 4).
//
// Ctrl-C stops all three in order: rustlb drains and exits, then the upstreams stop; a
// second Ctrl-C (a second later or more) makes rustlb exit at once. The exit code is
// rustlb's, or 1 if an upstream failed (its port taken, say), which stops the demo. The
// children run in sessions of their own so that the terminal's Ctrl-C reaches this script
// only, and rustlb hears it once (a second SIGINT would force it out without draining).
//
// Optional environment, to run the demo on other ports (test/demo.test.ts does, on free
// ones); unset, `npm start` is exactly the above:
//   RUSTLB_DEMO_CONFIG     rustlb's configuration file (default config/rustlb.yaml); its
//                          backend should list the upstreams' ports
//   RUSTLB_DEMO_UPSTREAMS  the upstreams' ports, comma-separated (default 9001,9002);
//                          they are named upstream-1, upstream-2, ... in that order
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const configFile = process.env.RUSTLB_DEMO_CONFIG ? resolve(process.env.RUSTLB_DEMO_CONFIG) : join(root, 'config/rustlb.yaml');
const ports = (process.env.RUSTLB_DEMO_UPSTREAMS || '9001,9002').split(',').map((p) => p.trim());
if (ports.some((p) => !/^\d+$/.test(p) || Number(p) < 1 || Number(p) > 65535)) {
  process.stderr.write(`demo: RUSTLB_DEMO_UPSTREAMS must be ports separated by commas, not "${process.env.RUSTLB_DEMO_UPSTREAMS}"\n`);
  process.exit(2);
}

// detached: a session and process group of its own (see above). stdin is not theirs to read.
const options = { stdio: ['ignore', 'inherit', 'inherit'], detached: true };
const upstreams = ports.map((port, i) => spawn(process.execPath, [join(root, 'scripts/demo-upstream.mjs'), port, `upstream-${i + 1}`], options));
const rustlb = spawn(process.execPath, [join(root, 'bin/rustlb'), '--config', configFile, ...process.argv.slice(2)], options);

const running = (child) => child.exitCode === null && child.signalCode === null;
const stopUpstreams = () => {
  for (const u of upstreams) if (running(u)) u.kill('SIGTERM');
};
let upstreamFailed = false;
rustlb.on('exit', (code, signal) => {
  stopUpstreams();
  process.exitCode = upstreamFailed ? 1 : (code ?? (signal ? 1 : 0));
});
// An upstream that cannot start (its port taken) ends the demo rather than leave half of it.
for (const u of upstreams) {
  u.on('exit', (code) => {
    if (code !== null && code !== 0 && running(rustlb)) {
      upstreamFailed = true;
      process.stderr.write('demo: an upstream failed; stopping\n');
      rustlb.kill('SIGTERM');
    }
  });
}
// A signal within a second of the one forwarded is the same Ctrl-C again (npm passes the
// terminal's SIGINT on to its script, which is this process when the shell execs it); a
// later one is the user insisting, and a second SIGINT makes rustlb exit at once.
let forwardedAt = Number.NEGATIVE_INFINITY;
const forward = (signal) => {
  if (!running(rustlb) || performance.now() - forwardedAt < 1000) return;
  forwardedAt = performance.now();
  rustlb.kill(signal);
};
process.on('SIGINT', () => forward('SIGINT'));
process.on('SIGTERM', () => forward('SIGTERM'));
// The terminal went away: stop everything (the children, in their own sessions, would not hear it).
process.on('SIGHUP', () => forward('SIGTERM'));
// This script failing must not leave the children behind.
process.on('exit', () => {
  for (const c of [rustlb, ...upstreams]) if (running(c)) c.kill('SIGKILL');
});
