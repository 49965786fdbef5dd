import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { freePort, get, type HttpUpstream, keepAliveAgent, RustlbProcess, startHttpUpstream, webPool } from '@rustlb/testkit';

// The foundation: two upstreams behind rustlb with two workers, round robin, 100 requests
// each way. Each worker alternates on its own, so each is at most one off an even split
// and the two together at most two.

let a: HttpUpstream;
let b: HttpUpstream;
let lb: RustlbProcess;
let port: number;

before(async () => {
  a = await startHttpUpstream('a');
  b = await startHttpUpstream('b');
  port = await freePort();
  lb = await RustlbProcess.start({
    config: webPool(port, [a.address, b.address]),
  });
});

after(async () => {
  await lb?.dispose();
  await a?.close();
  await b?.close();
});

function split(names: string[]): { a: number; b: number } {
  return { a: names.filter((n) => n === 'a').length, b: names.filter((n) => n === 'b').length };
}

test('100 requests on new connections alternate between the two upstreams within ±2', async () => {
  const names: string[] = [];
  for (let i = 0; i < 100; i++) names.push((await get(port)).text.trim());
  const s = split(names);
  assert.equal(s.a + s.b, 100);
  assert.ok(Math.abs(s.a - 50) <= 2, `split ${JSON.stringify(s)}`);
});

test('100 requests on one keep-alive connection alternate exactly', async () => {
  const agent = keepAliveAgent();
  const names: string[] = [];
  for (let i = 0; i < 100; i++) names.push((await get(port, { agent })).text.trim());
  agent.destroy();
  const s = split(names);
  // One connection is one worker: its own rotation, so exactly even.
  assert.deepEqual(s, { a: 50, b: 50 });
  for (let i = 1; i < names.length; i++) assert.notEqual(names[i], names[i - 1], 'consecutive requests go to the same upstream');
});
