// The status page's figures from a merged snapshot (what /metrics serves), the loopback
// rule and the token comparison.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DURATION_BUCKETS, METRIC, type MetricsJson, ORIGINAL_DURATION_BUCKETS, WorkerMetrics } from '@rustlb/telemetry';
import { keepServers, mergeToJson } from '@rustlb/telemetry/aggregate';
import { isLoopback, sameToken } from '../src/admin-http.js';
import { histogram, responses, sum, valuesOf } from '../src/status-page.js';

/** Two workers' metrics, merged as the hub merges them. */
function merged(): MetricsJson {
  const w0 = new WorkerMetrics();
  const w1 = new WorkerMetrics();
  const web = w0.target('web', 'pool');
  const api = w0.target('web', 'api');
  const other = w1.target('other', 'pool');
  web.request('GET', 200, 0.0004);
  web.request('GET', 200, 0.003);
  web.request('POST', 404, 0.02);
  api.request('GET', 503, 0.7);
  other.request('GET', 200, 0.0009);
  other.request('DELETE', 500, 70);
  other.request('GET', 302, 0.002);
  web.connections.inc(3);
  other.connections.inc(2);
  other.active.inc(1);
  return mergeToJson([w0.snapshot(), w1.snapshot()]);
}

describe('figures from the merged snapshot', () => {
  const m = merged();
  const requests = valuesOf(m, METRIC.requests);
  const duration = valuesOf(m, METRIC.duration);

  test('requests per frontend and per backend (over every frontend and route), by status class', () => {
    assert.equal(sum(requests, { frontend: 'web' }), 4);
    assert.equal(sum(requests, { frontend: 'other' }), 3);
    assert.equal(sum(requests, { backend: 'pool' }), 6);
    assert.equal(sum(requests, { backend: 'api' }), 1);
    assert.deepEqual(responses(requests, { frontend: 'web' }), { '1xx': 0, '2xx': 2, '3xx': 0, '4xx': 1, '5xx': 1 });
    assert.deepEqual(responses(requests, { backend: 'pool' }), { '1xx': 0, '2xx': 3, '3xx': 1, '4xx': 1, '5xx': 1 });
    assert.equal(sum(valuesOf(m, METRIC.connections), { frontend: 'web' }), 3);
    assert.equal(sum(valuesOf(m, METRIC.activeConnections), { frontend: 'other' }), 1);
    assert.deepEqual(valuesOf(m, 'rustlb_nothing'), []);
  });

  test('a duration histogram summed over label sets: cumulative counts, +Inf last', () => {
    const h = histogram(duration, { backend: 'pool' });
    assert.deepEqual(h.bounds, ORIGINAL_DURATION_BUCKETS);
    assert.equal(h.count, 6);
    assert.ok(Math.abs(h.sum - (0.0004 + 0.003 + 0.02 + 0.0009 + 70 + 0.002)) < 1e-9);
    const at = (bound: number) => h.counts[h.bounds.indexOf(bound)];
    assert.equal(at(0.001), 2);
    assert.equal(at(0.0025), 3);
    assert.equal(at(0.00625), 4);
    assert.equal(at(0.0390625), 5);
    assert.equal(at(59.604644775390625), 5);
    assert.equal(h.counts[h.bounds.length], 6, '+Inf holds the 70 s one');
    assert.equal(h.counts.length, ORIGINAL_DURATION_BUCKETS.length + 1);
    const none = histogram(duration, { backend: 'nobody' });
    assert.deepEqual(none, { bounds: [], counts: [0], count: 0, sum: 0 });
  });
});

describe('per-server figures from the merged snapshot', () => {
  const w0 = new WorkerMetrics();
  const w1 = new WorkerMetrics();
  w0.server('pool', 'a:1').request(200, 0.0004);
  w0.server('pool', 'a:1').request(404, 0.003);
  w1.server('pool', 'a:1').request(503, 0.7);
  w1.server('pool', 'b:1').request(200, 0.02);
  w1.server('api', 'a:1').request(200, 70);
  const m = mergeToJson([w0.snapshot(), w1.snapshot()]);
  const requests = valuesOf(m, METRIC.serverRequests);
  const duration = valuesOf(m, METRIC.serverDuration);

  test('requests by status class, per (backend, server)', () => {
    assert.equal(sum(requests, { backend: 'pool', server: 'a:1' }), 3);
    assert.equal(sum(requests, { backend: 'pool', server: 'b:1' }), 1);
    assert.equal(sum(requests, { backend: 'api', server: 'a:1' }), 1);
    assert.deepEqual(responses(requests, { backend: 'pool', server: 'a:1' }), { '1xx': 0, '2xx': 1, '3xx': 0, '4xx': 1, '5xx': 1 });
  });

  test('the per-server duration histogram, by its own name', () => {
    const h = histogram(duration, { backend: 'pool', server: 'a:1' }, METRIC.serverDuration);
    assert.deepEqual(h.bounds, DURATION_BUCKETS);
    assert.equal(h.count, 3);
    assert.equal(h.counts[h.bounds.indexOf(0.001)], 1);
    assert.equal(h.counts[h.bounds.indexOf(0.005)], 2);
    assert.equal(h.counts[h.bounds.length], 3);
    // Not the (frontend, backend) histogram's series.
    assert.equal(histogram(duration, { backend: 'pool' }).count, 0);
    assert.equal(histogram(duration, { backend: 'api', server: 'a:1' }, METRIC.serverDuration).counts[DURATION_BUCKETS.length - 1], 0);
  });

  test('keepServers drops the per-server series of servers gone, and nothing else', () => {
    const w = new WorkerMetrics();
    w.target('web', 'pool').request('GET', 200, 0.01);
    w.server('pool', 'a:1').request(200, 0.01);
    w.server('pool', 'b:1').request(200, 0.01);
    const snap = w.snapshot();
    assert.equal(
      keepServers(snap, () => true),
      snap,
      'unchanged: the same object',
    );
    const kept = keepServers(snap, (backend, server) => backend === 'pool' && server === 'a:1');
    assert.equal(sum(valuesOf(kept, METRIC.serverRequests), { server: 'b:1' }), 0);
    assert.equal(valuesOf(kept, METRIC.serverDuration).filter((v) => v.labels.server === 'b:1').length, 0);
    assert.equal(sum(valuesOf(kept, METRIC.serverRequests), { server: 'a:1' }), 1);
    assert.equal(sum(valuesOf(kept, METRIC.requests), { backend: 'pool' }), 1);
    assert.equal(sum(valuesOf(snap, METRIC.serverRequests), { server: 'b:1' }), 1, 'the input is not changed');
  });
});

test('loopback addresses', () => {
  for (const h of ['127.0.0.1', '127.1.2.3', '::1', 'localhost', '::ffff:127.0.0.1']) assert.equal(isLoopback(h), true, h);
  for (const h of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.1', '::ffff:10.0.0.1', 'example.com', '128.0.0.1']) assert.equal(isLoopback(h), false, h);
});

test('the token comparison', () => {
  const token = 'a-long-random-secret-from-a-vault';
  assert.equal(sameToken(token, token), true);
  for (const wrong of ['', token.slice(1), `${token} `, token.toUpperCase(), 'x'.repeat(token.length)]) assert.equal(sameToken(wrong, token), false, wrong);
});
