import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dispatch, envelope, type Handlers, isEnvelope, type ToWorker } from '../src/ipc/index.js';

type Seen = { kind: string; context?: number };

function table(seen: Seen[]): Handlers<ToWorker, [context: number]> {
  return {
    config: (m, c) => seen.push({ kind: m.kind, context: c }),
    topology: (m, c) => seen.push({ kind: m.kind, context: c }),
    'conn-view': (m, c) => seen.push({ kind: m.kind, context: c }),
    'metrics-collect': (m, c) => seen.push({ kind: `${m.kind}#${m.seq}`, context: c }),
    drain: (m, c) => seen.push({ kind: `${m.kind}@${m.acceptForMs}`, context: c }),
  };
}

test('dispatch calls the handler of the kind with the message and the context', () => {
  const seen: Seen[] = [];
  const unknown: string[] = [];
  const sent = envelope<ToWorker>({ kind: 'metrics-collect', seq: 7 });
  assert.ok(isEnvelope(sent));
  dispatch(table(seen), sent, (k) => unknown.push(k), 3);
  dispatch(table(seen), envelope<ToWorker>({ kind: 'drain', acceptForMs: 0 }), (k) => unknown.push(k), 4);
  assert.deepEqual(seen, [
    { kind: 'metrics-collect#7', context: 3 },
    { kind: 'drain@0', context: 4 },
  ]);
  assert.deepEqual(unknown, []);
});

test('a kind with no handler goes to `unknown` and nothing else is called, prototype names included', () => {
  const seen: Seen[] = [];
  const unknown: string[] = [];
  for (const kind of ['reticulate', 'toString', 'constructor', '__proto__', 'hasOwnProperty']) {
    const message: unknown = { rustlb: 1, kind };
    assert.ok(isEnvelope(message));
    dispatch(table(seen), message, (k) => unknown.push(k), 1);
  }
  assert.deepEqual(seen, []);
  assert.deepEqual(unknown, ['reticulate', 'toString', 'constructor', '__proto__', 'hasOwnProperty']);
});

test('isEnvelope: only a rustlb message of this version with a string kind', () => {
  assert.ok(isEnvelope({ rustlb: 1, kind: 'hello' }));
  for (const value of [null, undefined, 'hello', { kind: 'hello' }, { rustlb: 2, kind: 'hello' }, { rustlb: 1 }, { rustlb: 1, kind: 5 }]) {
    assert.equal(isEnvelope(value), false, JSON.stringify(value));
  }
});
