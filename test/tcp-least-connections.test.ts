import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { Blackhole, backend, freePort, lbConfig, RustlbProcess, startTcpUpstream, type TcpUpstream, tcpFrontend, waitFor } from '@rustlb/testkit';

// A TCP session counts for least_connections from the moment its server is picked, not
// from the end of its connect: otherwise a burst of sessions all pick the server whose
// connects are still hanging (it looks idle), and the answering one gets almost none.

let hole: Blackhole;
let live: TcpUpstream;
let lb: RustlbProcess;
let port: number;
const clients: Socket[] = [];

before(async () => {
  hole = await Blackhole.start();
  live = await startTcpUpstream();
  port = await freePort();
  lb = await RustlbProcess.start({
    config: lbConfig({
      frontends: [tcpFrontend('db', port, 'pool', { algorithm: 'least_connections', tcp: { connect_timeout: '20s' } })],
      // Health checks would mark the black hole down: keep them out of the way.
      backends: [backend('pool', [hole.address, live.address], { health_check: { interval: '1h', timeout: '1s' } })],
    }),
  });
});

after(async () => {
  for (const c of clients) c.destroy();
  await lb?.dispose();
  await live?.close();
  hole?.close();
});

test('sessions still connecting count: a burst splits between the hanging and the answering server', async () => {
  for (let i = 0; i < 12; i++) {
    const c = connect(port, '127.0.0.1');
    c.on('error', () => {});
    clients.push(c);
  }
  // Every session has been picked once the answering server has seen its share and no more come.
  await waitFor(() => live.connections >= 4, 'the answering server to take its share of the burst', 15_000);
  // Without pick-time counting each worker sends one session to the answering server and the
  // rest to the hanging one (still at zero): two in all.
  assert.ok(live.connections >= 4, `the answering server got ${live.connections} of 12 sessions`);
});
