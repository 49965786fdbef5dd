import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatProblem, validateConfigText } from '../src/index.js';
import { errorsOf, POOL, yaml } from './problems-of.js';

test('a YAML syntax error carries its line', () => {
  const text = yaml('frontends:', '  - name: web', '    listen: "127.0.0.1:8080"', '    backend: [pool', ...POOL);
  const errors = errorsOf(text);
  assert.equal(errors.length, 1);
  assert.match(errors[0] as string, /^\(line 5\): YAML syntax error: /);
});

test('an unclosed quote is reported where the string starts, not at the end of the file', () => {
  const text = yaml('frontends:', '  - name: web', '    listen: "127.0.0.1:8080', '    backend: pool', ...POOL);
  assert.deepEqual(errorsOf(text), ['(line 3): YAML syntax error: this quoted string is never closed']);
});

test('tabs used for indentation', () => {
  const text = yaml('frontends:', '\t- name: web', ...POOL);
  assert.deepEqual(errorsOf(text), ['(line 2): YAML syntax error: Tabs are not allowed as indentation']);
});

test('a duplicate key names its path and the second occurrence', () => {
  const text = yaml('frontends:', '  - name: web', '    listen: "127.0.0.1:8080"', '    backend: pool', '    listen: "127.0.0.1:8081"', ...POOL);
  assert.deepEqual(errorsOf(text), ['frontends[0].listen (line 5): duplicate key "listen" (a key may appear once in a mapping)']);
});

test('a duplicate top-level section', () => {
  const text = yaml('frontends: []', ...POOL, 'frontends: []');
  assert.deepEqual(errorsOf(text), ['frontends (line 6): duplicate key "frontends" (a key may appear once in a mapping)']);
});

test('an empty file, or one of comments only, is named', () => {
  for (const text of ['', '\n\n', '# nothing here yet\n']) {
    assert.deepEqual(errorsOf(text), ['(line 1): the configuration is empty: it needs frontends and backends']);
    const r = validateConfigText(text, '/etc/rustlb/rustlb.yaml');
    assert.deepEqual(r.ok ? [] : r.errors.map(formatProblem), ['(line 1): /etc/rustlb/rustlb.yaml is empty: it needs frontends and backends']);
  }
});

test('a document that is not a mapping', () => {
  assert.deepEqual(errorsOf('- frontends\n- backends\n'), ['(line 1): the configuration must be a mapping with frontends and backends']);
});

test('two documents in one file', () => {
  assert.deepEqual(errorsOf(yaml('frontends: []', 'backends: []', '---', 'frontends: []')), [
    '(line 3): YAML syntax error: the file must hold one YAML document, not several separated by ---',
  ]);
});

test('an alias bomb is refused as an error, not expanded', () => {
  const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
  let prev = 'a';
  for (let i = 0; i < 8; i++) {
    lines.push(`b${i}: &b${i} [${Array(10).fill(`*${prev}`).join(', ')}]`);
    prev = `b${i}`;
  }
  // Located at the alias that expands the most: the last level of the bomb.
  assert.deepEqual(errorsOf(yaml(...lines)), [
    '(line 9): YAML error: Excessive alias count indicates a resource exhaustion attack (aliases that expand too much)',
  ]);
});

test('an alias to no anchor is an error, not a crash', () => {
  assert.deepEqual(errorsOf(yaml('frontends: *list', ...POOL)), ['frontends (line 1): YAML error: alias *list refers to no anchor &list before it']);
  assert.deepEqual(errorsOf(yaml('frontends: []', ...POOL, 'global: *a')), ['global (line 6): YAML error: alias *a refers to no anchor &a before it']);
  // An alias before its anchor is not resolved either (YAML reads top to bottom).
  assert.deepEqual(errorsOf(yaml('frontends: *x', 'other: &x []', ...POOL)), ['frontends (line 1): YAML error: alias *x refers to no anchor &x before it']);
});
