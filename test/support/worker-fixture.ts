import { after, before } from 'node:test';
import {
  backend,
  frontend,
  type HttpUpstream,
  lbConfig,
  type RustlbProcess,
  startHttpUpstream,
  startTcpUpstream,
  type TcpUpstream,
  tcpFrontend,
} from '@rustlb/testkit';

export interface WorkerFixture {
  /** An HTTP upstream answering after 5 ms (150 ms on /slow), so there is always something in flight. */
  readonly web: HttpUpstream;
  /** A TCP echo upstream. */
  readonly echo: TcpUpstream;
  /** rustlb config: an HTTP frontend on `httpPort` and a TCP one on `tcpPort`. */
  config(httpPort: number, tcpPort: number, global?: Record<string, unknown>): Record<string, unknown>;
}

/** The upstreams and config the worker lifecycle tests share; started before and stopped after the file's tests. */
export function workerFixture(): WorkerFixture {
  const f = {
    web: null as unknown as HttpUpstream,
    echo: null as unknown as TcpUpstream,
    config(httpPort: number, tcpPort: number, global: Record<string, unknown> = {}): Record<string, unknown> {
      return lbConfig({
        global: { access_log: false, ...global },
        frontends: [frontend('web', httpPort, 'pool'), tcpFrontend('echo', tcpPort, 'echo')],
        backends: [backend('pool', [f.web.address]), backend('echo', [f.echo.address])],
      });
    },
  };
  before(async () => {
    f.web = await startHttpUpstream('a');
    f.web.handler = (req, res) => {
      setTimeout(
        () => {
          res.writeHead(200, { 'content-length': 3 });
          res.end('ok\n');
        },
        req.url === '/slow' ? 150 : 5,
      );
    };
    f.echo = await startTcpUpstream();
  });
  after(async () => {
    await f.web?.close();
    await f.echo?.close();
  });
  return f;
}

/** The process exists (signal 0; EPERM means it exists but is not ours). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** The pid of the worker last forked into `slot`. */
export function pidOfSlot(lb: RustlbProcess, slot: number): number {
  const forks = lb.logs.filter((l) => l.msg === 'worker forked' && l.worker === slot);
  return forks[forks.length - 1]?.workerPid as number;
}
