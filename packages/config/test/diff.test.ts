import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diffConfig } from '../src/index.js';
import { configOf, yaml } from './problems-of.js';

function config(options: { global?: string[]; defaults?: string[]; frontends: string[]; backends: string[] }) {
  return configOf(
    yaml(
      ...(options.global ? ['global:', ...options.global] : []),
      ...(options.defaults ? ['health_check_defaults:', ...options.defaults] : []),
      'frontends:',
      ...options.frontends,
      'backends:',
      ...options.backends,
    ),
  );
}

const frontend = (name: string, port: number, backend = 'pool') => [`  - name: ${name}`, `    listen: "127.0.0.1:${port}"`, `    backend: ${backend}`];
const backend = (name: string, address: string, extra: string[] = []) => [`  - name: ${name}`, '    servers:', `      - address: "${address}"`, ...extra];

const OLD = config({
  global: ['  workers: 2', '  log_level: info'],
  frontends: [...frontend('web', 8080), ...frontend('api', 8081, 'api'), ...frontend('legacy', 8082)],
  backends: [...backend('pool', '127.0.0.1:9001'), ...backend('api', '127.0.0.1:9101'), ...backend('gone', '127.0.0.1:9201')],
});

test('an identical configuration changes nothing', () => {
  assert.deepEqual(diffConfig(OLD, OLD), {
    addedFrontends: [],
    removedFrontends: [],
    changedFrontends: [],
    addedBackends: [],
    removedBackends: [],
    changedBackends: [],
    needsRestart: [],
    changedGlobals: [],
    changedCertificates: [],
  });
});

test('added, removed and changed frontends and backends', () => {
  const next = config({
    global: ['  workers: 2', '  log_level: info'],
    frontends: [...frontend('web', 8080), ...frontend('api', 9081, 'api'), ...frontend('admin', 8083)],
    backends: [...backend('pool', '127.0.0.1:9001'), ...backend('api', '127.0.0.1:9101', ['        weight: 3']), ...backend('fresh', '127.0.0.1:9301')],
  });
  const d = diffConfig(OLD, next);
  assert.deepEqual(
    { ...d },
    {
      addedFrontends: ['admin'],
      removedFrontends: ['legacy'],
      changedFrontends: ['api'],
      addedBackends: ['fresh'],
      removedBackends: ['gone'],
      changedBackends: ['api'],
      needsRestart: [],
      changedGlobals: [],
      changedCertificates: [],
    },
  );
});

test('restart-only globals are told apart from live ones, under their file names', () => {
  const next = config({
    global: [
      '  workers: 4',
      '  log_level: debug',
      '  log_format: pretty',
      '  access_log: false',
      '  shutdown_timeout: 10s',
      '  metrics:',
      '    address: "127.0.0.1:9191"',
      '  admin:',
      '    socket: /tmp/other.sock',
    ],
    defaults: ['  interval: 3s'],
    frontends: [...frontend('web', 8080), ...frontend('api', 8081, 'api'), ...frontend('legacy', 8082)],
    backends: [...backend('pool', '127.0.0.1:9001'), ...backend('api', '127.0.0.1:9101'), ...backend('gone', '127.0.0.1:9201')],
  });
  const d = diffConfig(OLD, next);
  assert.deepEqual([...d.needsRestart].sort(), ['global.admin.socket', 'global.log_format', 'global.metrics', 'global.workers']);
  assert.deepEqual([...d.changedGlobals].sort(), ['global.access_log', 'global.log_level', 'global.shutdown_timeout', 'health_check_defaults']);
  // Backends without their own health_check follow the defaults, so they change too.
  assert.deepEqual([...d.changedBackends].sort(), ['api', 'gone', 'pool']);
  assert.deepEqual(d.changedFrontends, []);
});
