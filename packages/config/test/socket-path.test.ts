import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { socketPath, validateConfigText } from '../src/index.js';

const minimal = (socket: string) => `global: { admin: { socket: "${socket}" } }\nfrontends: []\nbackends: []\n`;

test('a relative control socket is relative to the config file, wherever rustlb was started from', () => {
  const r = validateConfigText(minimal('run/ctl.sock'), '/etc/rustlb/config.yaml');
  assert.ok(r.ok);
  assert.equal(r.config.global.adminSocket, '/etc/rustlb/run/ctl.sock');
  assert.equal(socketPath('run/ctl.sock', '/etc/rustlb/config.yaml'), '/etc/rustlb/run/ctl.sock');
});

test('an absolute control socket is kept as it is', () => {
  const r = validateConfigText(minimal('/run/rustlb/rustlb.sock'), '/etc/rustlb/config.yaml');
  assert.ok(r.ok);
  assert.equal(r.config.global.adminSocket, '/run/rustlb/rustlb.sock');
});

test('without a file, a relative socket is relative to the working directory', () => {
  assert.equal(socketPath('ctl.sock', null), join(process.cwd(), 'ctl.sock'));
});
