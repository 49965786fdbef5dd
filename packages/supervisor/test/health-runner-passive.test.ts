import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateConfigText } from '@rustlb/config';
import type { Topology } from '@rustlb/core';
import type { PassiveFailureReason, PassiveReport } from '@rustlb/core/ipc';
import type { Logger } from '@rustlb/telemetry';
import { HealthRunner } from '../src/health-runner.js';
import { PrimaryMetrics } from '../src/primary-metrics.js';
import { ServerTable } from '../src/server-table.js';
import { ServerTablePush } from '../src/server-table-push.js';

const A = 'pool/127.0.0.1:9001';
const B = 'pool/127.0.0.1:9002';

interface Line {
  readonly level: 'info' | 'warn';
  readonly msg: string;
  readonly fields: Record<string, unknown>;
}

/**
 * A real HealthRunner over a real configuration and server table, with the table's push:
 * unhealthy_threshold 3, and probes an hour apart. Each test reports and checks
 * synchronously, then stops the runner, so no probe runs in between: what decides is the
 * passive reports alone. `events` records pushes and log lines in the order they happen.
 */
function runner() {
  const text = `
frontends:
  - name: web
    listen: "127.0.0.1:8080"
    protocol: http
    backend: pool
backends:
  - name: pool
    servers:
      - address: "127.0.0.1:9001"
      - address: "127.0.0.1:9002"
    health_check:
      type: tcp
      interval: 1h
      timeout: 1s
      unhealthy_threshold: 3
      healthy_threshold: 2
      cooldown: 1h
`;
  const loaded = validateConfigText(text);
  assert.ok(loaded.ok, JSON.stringify(loaded));
  const lines: Line[] = [];
  const events: string[] = [];
  let wake: (() => void) | null = null;
  const log = (level: Line['level']) => (fields: Record<string, unknown>, msg: string) => {
    lines.push({ level, msg, fields });
    events.push(`log: ${msg}`);
    wake?.();
  };
  const logger = { info: log('info'), warn: log('warn'), error: log('warn'), debug: () => {} } as unknown as Logger;
  const metrics = new PrimaryMetrics();
  const table = new ServerTable();
  const health = new HealthRunner(metrics, table);
  const pushed: Topology[] = [];
  new ServerTablePush(table, logger, (topology) => {
    pushed.push(topology);
    events.push('push');
  });
  let transitions = 0;
  table.onChanged((c) => {
    if (c.kind === 'health') transitions++;
  });
  table.configure(loaded.config.backends);
  const healthy = (key: string) => table.rows().find((s) => s.member.key === key)?.healthy;
  const gauge = async (key: string) => {
    const address = key.slice(key.indexOf('/') + 1);
    return (await metrics.backendHealth.get()).values.find((v) => v.labels.server === address)?.value;
  };
  /** The first line `match` accepts, waiting for it (lines are written on a later turn) for at most `timeoutMs`. */
  const line = (match: (l: Line) => boolean, timeoutMs = 5_000): Promise<Line> => {
    const found = lines.find(match);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no such log line within ${timeoutMs}ms: ${JSON.stringify(lines)}`)), timeoutMs);
      wake = () => {
        const l = lines.find(match);
        if (l === undefined) return;
        clearTimeout(timer);
        wake = null;
        resolve(l);
      };
    });
  };
  return { health, table, lines, events, pushed, healthy, gauge, line, transitions: () => transitions };
}

/** What one worker's reporter sends for one flush. */
function report(failures: [key: string, reason: PassiveFailureReason, count: number][], successes: string[] = []): PassiveReport {
  return { kind: 'passive', failures: failures.map(([key, reason, count]) => ({ key, reason, count })), successes };
}

test('failures reported by different workers add up: 2 from one worker and 2 from another reach unhealthy_threshold 3', async () => {
  const r = runner();
  // Worker 1's batch: below the threshold on its own.
  r.health.passive(report([[A, 'refused', 2]]));
  assert.equal(r.healthy(A), true);
  assert.equal(r.transitions(), 0, 'nothing to announce yet');
  // Worker 2's batch: below the threshold on its own too, but 2 + 2 >= 3.
  r.health.passive(report([[A, 'connect-timeout', 2]]));
  assert.equal(r.healthy(A), false);
  assert.equal(r.healthy(B), true);
  assert.equal(r.transitions(), 1, 'the transition is announced by the server table');
  const entry = r.table.topology().backends.pool?.find((e) => e.key === A);
  assert.equal(entry?.healthy, false);
  r.health.stop();
  assert.equal(await r.gauge(A), 0);
  assert.equal(await r.gauge(B), 1);
  const down = await r.line((l) => l.msg === 'server is unhealthy');
  assert.equal(down.level, 'warn');
  assert.equal(down.fields.server, '127.0.0.1:9001');
  assert.equal(down.fields.reason, 'passive: connect-timeout (2 in one report)');
  assert.equal(r.lines.filter((l) => l.msg === 'server is unhealthy').length, 1);
  // The workers were sent the table with A down before the line was written.
  const last = r.pushed.at(-1);
  assert.equal(last?.backends.pool?.find((e) => e.key === A)?.healthy, false, 'the push carries the transition');
  assert.ok(r.events.lastIndexOf('push') < r.events.indexOf('log: server is unhealthy'), `push, then the line: ${r.events.join(' / ')}`);
});

test('one failure from each of two workers stays below unhealthy_threshold 3; a third worker tips it', async () => {
  const r = runner();
  r.health.passive(report([[A, 'reset', 1]]));
  r.health.passive(report([[A, 'response-timeout', 1]]));
  assert.equal(r.healthy(A), true);
  assert.equal(r.transitions(), 0);
  assert.equal(await r.gauge(A), 1);
  r.health.passive(report([[A, 'response-timeout', 1]]));
  assert.equal(r.healthy(A), false);
  assert.equal(r.transitions(), 1);
  r.health.stop();
  const down = await r.line((l) => l.msg === 'server is unhealthy');
  assert.equal(down.fields.reason, 'passive: response-timeout (1 in one report)');
});

test('a success from any worker breaks the run of failures the others reported', () => {
  const r = runner();
  r.health.passive(report([[A, 'refused', 2]]));
  // Another worker saw A answer: the failures were not consecutive.
  r.health.passive(report([], [A]));
  r.health.passive(report([[A, 'refused', 2]]));
  assert.equal(r.healthy(A), true, '2, a success, then 2: never 3 in a row');
  r.health.passive(report([[A, 'refused', 1]]));
  assert.equal(r.healthy(A), false);
  r.health.stop();
});
