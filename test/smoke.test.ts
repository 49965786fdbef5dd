import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { freePort, get, type HttpUpstream, keepAliveAgent, RustlbProcess, startHttpUpstream } from '@rustlb/testkit';

let a: HttpUpstream;
let b: HttpUpstream;
let lb: RustlbProcess;
let port: number;

before(async () => {
  a = await startHttpUpstream('a');
  b = await startHttpUpstream('b');
  port = await freePort();
  lb = await RustlbProcess.start({
    config: {
      frontends: [{ name: 'web', listen: `127.0.0.1:${port}`, protocol: 'http', backend: 'pool' }],
      backends: [{ name: 'pool', servers: [{ address: a.address }, { address: b.address }] }],
    },
  });
});

after(async () => {
  await lb?.dispose();
  await a?.close();
  await b?.close();
});

test('requests alternate between the two upstreams', async () => {
  const agent = keepAliveAgent();
  const names: string[] = [];
  for (let i = 0; i < 10; i++) names.push((await get(port, { agent })).text.trim());
  agent.destroy();
  assert.equal(names.filter((n) => n === 'a').length, 5);
  assert.equal(names.filter((n) => n === 'b').length, 5);
});
