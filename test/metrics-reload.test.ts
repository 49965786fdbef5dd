import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { backend, freePort, frontend, type HttpUpstream, lbConfig, metricValue, RustlbProcess, startHttpUpstream, waitFor } from '@rustlb/testkit';

// Open HTTP connections are counted under the frontend's default backend. A reload that
// points the frontend at another backend moves the count with it, so a connection opened
// before the reload and closed after it leaves neither gauge off by one.

let a: HttpUpstream;
let b: HttpUpstream;
let lb: RustlbProcess;
let port: number;

const config = (to: string) => lbConfig({ frontends: [frontend('web', port, to)], backends: [backend('first', [a.address]), backend('second', [b.address])] });

before(async () => {
  a = await startHttpUpstream('a');
  b = await startHttpUpstream('b');
  port = await freePort();
  lb = await RustlbProcess.start({ config: config('first'), args: ['--no-watch'] });
});

after(async () => {
  await lb?.dispose();
  await a?.close();
  await b?.close();
});

const active = async (backend: string) => metricValue(await lb.metrics(), 'rustlb_active_connections', { frontend: 'web', backend }) ?? 0;

test('a connection opened before a reload that changes the default backend is counted once, and uncounted on close', async () => {
  const held: Socket = connect(port, '127.0.0.1');
  held.on('error', () => {});
  await new Promise((r) => held.once('connect', r));
  await waitFor(async () => (await active('first')) === 1, 'the held connection to be counted under the first backend');
  lb.writeConfig(config('second'));
  const r = await lb.ctl(['reload']);
  assert.equal(r.code, 0, r.stderr);
  await waitFor(async () => (await active('second')) === 1 && (await active('first')) === 0, 'the count to move to the second backend');
  held.destroy();
  await waitFor(async () => (await active('second')) === 0, 'the close to be uncounted');
  assert.equal(await active('first'), 0);
});
