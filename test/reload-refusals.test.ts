import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { freePort, get, type HttpUpstream, type LogLine, metricValue, RustlbProcess, startHttpUpstream, waitFor, webPool } from '@rustlb/testkit';

// Issue 19: configurations that used to crash the validator (a TypeError in the checks
// after the schema) were refused by a reload but not counted, and the watcher tried the
// same content again on its next event. Every refusal is counted once, the old
// configuration keeps serving, and a rejected content is not tried again until it changes.

let upstream: HttpUpstream;
let lb: RustlbProcess;
let port: number;

const valid = () => webPool(port, [upstream.address], { global: { log_level: 'debug' }, frontend: { http: { response_headers: { 'X-Config': 'v1' } } } });

/** A file that only differs from the valid one by `global`, written as YAML text as an operator would. */
const broken = (global: string) =>
  [
    `global: ${global}`,
    'frontends:',
    `  - {name: web, listen: "127.0.0.1:${port}", protocol: http, backend: pool}`,
    'backends:',
    `  - name: pool`,
    `    servers: [{address: "${upstream.address}"}]`,
    '    health_check: {}',
    '',
  ].join('\n');

before(async () => {
  upstream = await startHttpUpstream('a');
  port = await freePort();
  lb = await RustlbProcess.start({ config: valid() });
});

after(async () => {
  await lb?.dispose();
  await upstream?.close();
});

const rejections = (): LogLine[] => lb.logs.filter((l) => l.msg === 'configuration rejected; the old one stays in force');
const unchanged = (): LogLine[] => lb.logs.filter((l) => l.msg === 'configuration file event; content unchanged');
const failures = async (): Promise<number> => metricValue(await lb.metrics(), 'rustlb_config_reloads_total', { result: 'failure' }) ?? 0;

async function servesV1(): Promise<void> {
  const r = await get(port, { timeoutMs: 5000 });
  assert.equal(r.status, 200);
  assert.equal(r.headers['x-config'], 'v1');
}

test('each formerly crashing file is refused by the watcher with located errors, counted once, and the old config keeps serving', async () => {
  const files = [
    '{metrics: []}',
    '{metrics: 9090}',
    '{metrics: }',
    '{log_format: &s {a: *s}}',
    '*nowhere',
    'info\nhealth_check_defaults: {interval: 5, timeout: 5}',
  ];
  for (const [i, global] of files.entries()) {
    writeFileSync(lb.configFile, broken(global));
    const line = await waitFor(() => rejections()[i], `rejection ${i + 1} (global: ${global})`);
    assert.equal(line.trigger, 'file change');
    const errors = line.errors as string[];
    assert.ok(errors.length > 0 && errors.every((e) => /\(line \d+\)/.test(e)), JSON.stringify(errors));
    assert.ok(!errors.some((e) => /internal error|reload failed/.test(e)), JSON.stringify(errors));
    await waitFor(async () => (await failures()) === i + 1, `the failure counter at ${i + 1}`);
    await servesV1();
  }
  assert.equal(lb.logs.filter((l) => l.msg === 'reload failed').length, 0);
});

test('a rejected content is not tried again when the file is written unchanged; a change is', async () => {
  const before = rejections().length;
  const counted = await failures();
  const seen = unchanged().length;
  // The same bytes again (an editor saving without a change, a ConfigMap resync).
  writeFileSync(lb.configFile, readFileSync(lb.configFile));
  await waitFor(() => unchanged().length > seen, 'the event to be recognised as the rejected content');
  assert.equal(rejections().length, before);
  assert.equal(await failures(), counted);
  // Another broken content is a new refusal.
  writeFileSync(lb.configFile, broken('{metrics: []}'));
  await waitFor(() => rejections().length === before + 1, 'the new content to be refused');
  await waitFor(async () => (await failures()) === counted + 1, 'the refusal to be counted');
  await servesV1();
});

test('rustlb-ctl reload of a refused file answers with the located errors and counts each refusal', async () => {
  const before = rejections().length;
  writeFileSync(lb.configFile, broken('{metrics: 9090}'));
  await waitFor(() => rejections().length === before + 1, 'the watcher to refuse it first');
  const counted = await failures();
  const r = await lb.ctl(['reload', '--json']);
  assert.notEqual(r.code, 0);
  const result = JSON.parse(r.stdout) as { accepted: boolean; errors: string[] };
  assert.equal(result.accepted, false);
  assert.deepEqual(result.errors, ['global.metrics (line 1): must be a mapping (key: value lines) (got 9090)']);
  assert.equal(await failures(), counted + 1);
  await servesV1();
});
