import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConnCounts, PassiveReport } from '@rustlb/core/ipc';
import { ServerSlot } from '@rustlb/proxy';
import { Reporter } from '../src/reporter.js';

function slot(backend: string, address: string): ServerSlot {
  const i = address.lastIndexOf(':');
  return new ServerSlot(
    { key: `${backend}/${address}`, address, host: address.slice(0, i), port: Number(address.slice(i + 1)), weight: 1, healthy: true, admin: 'enabled' },
    backend,
  );
}

/** A send function that records what the reporter sends, and lets a test wait for the n-th message. */
function capture() {
  const messages: (PassiveReport | ConnCounts)[] = [];
  let wake: (() => void) | null = null;
  const send = (m: PassiveReport | ConnCounts) => {
    messages.push(m);
    wake?.();
  };
  const count = async (n: number, timeoutMs = 5_000): Promise<void> => {
    if (messages.length >= n) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs}ms waiting for message ${n} (got ${messages.length})`)), timeoutMs);
      wake = () => {
        if (messages.length < n) return;
        clearTimeout(timer);
        wake = null;
        resolve();
      };
    });
  };
  return { messages, send, count };
}

test('many passive failures within the flush window go out as one message with their counts', async () => {
  const { messages, send, count } = capture();
  const reporter = new Reporter(send);
  const a = slot('web', '10.0.0.1:80');
  const b = slot('web', '10.0.0.2:80');
  for (let i = 0; i < 100; i++) reporter.passiveFailure(a, 'refused');
  for (let i = 0; i < 3; i++) reporter.passiveFailure(a, 'connect-timeout');
  for (let i = 0; i < 2; i++) reporter.passiveFailure(b, 'response-timeout');
  assert.equal(messages.length, 0, 'nothing is sent per failure');
  await count(1);
  assert.deepEqual(messages[0], {
    kind: 'passive',
    failures: [
      { key: 'web/10.0.0.1:80', reason: 'refused', count: 100 },
      { key: 'web/10.0.0.1:80', reason: 'connect-timeout', count: 3 },
      { key: 'web/10.0.0.2:80', reason: 'response-timeout', count: 2 },
    ],
    successes: [],
  });
  // The next failure starts a new batch: the 105 above were one message, and are not sent again.
  reporter.passiveFailure(a, 'reset');
  await count(2);
  assert.equal(messages.length, 2);
  assert.deepEqual(messages[1], { kind: 'passive', failures: [{ key: 'web/10.0.0.1:80', reason: 'reset', count: 1 }], successes: [] });
});

test('a success travels only when it follows a reported failure of that server', async () => {
  const { messages, send, count } = capture();
  const reporter = new Reporter(send);
  const a = slot('web', '10.0.0.1:80');
  const b = slot('web', '10.0.0.2:80');
  // A healthy server answering is the normal case: no message for it, however often.
  for (let i = 0; i < 50; i++) reporter.passiveSuccess(a);
  reporter.passiveFailure(b, 'refused');
  await count(1);
  assert.deepEqual(messages[0], { kind: 'passive', failures: [{ key: 'web/10.0.0.2:80', reason: 'refused', count: 1 }], successes: [] });
  // B answers again: one success for it, once.
  for (let i = 0; i < 10; i++) reporter.passiveSuccess(b);
  await count(2);
  assert.deepEqual(messages[1], { kind: 'passive', failures: [], successes: ['web/10.0.0.2:80'] });
  for (let i = 0; i < 10; i++) reporter.passiveSuccess(b);
  reporter.passiveFailure(a, 'reset');
  await count(3);
  assert.equal(messages.length, 3);
  assert.deepEqual(messages[2], { kind: 'passive', failures: [{ key: 'web/10.0.0.1:80', reason: 'reset', count: 1 }], successes: [] });
});
