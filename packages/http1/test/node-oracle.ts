// Node's own strict HTTP/1.1 request parser as an oracle, through its public API: a
// node:http server on 127.0.0.1 that is sent raw bytes over node:net, one connection per
// head. Tests only.
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import { connect, createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';

export type NodeVerdict =
  | {
      accepted: true;
      method: string;
      url: string;
      framing: 'none' | 'length' | 'chunked';
      length: number;
      minor: number;
      /** What became of a chunked body: 'complete', 'incomplete' or Node's error code. */
      body: string;
    }
  | { accepted: false; code: string };

export class NodeOracle {
  private readonly results = new Map<number, NodeVerdict>();
  /** Accepted requests whose chunked body is still being read, by client port. */
  private readonly bodyErrors = new Map<number, NodeVerdict>();
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(maxHeaderSize: number): Promise<NodeOracle> {
    // requireHostHeader off: the parser is compared, not Node's own Host policy.
    const server = createServer({ maxHeaderSize, insecureHTTPParser: false, requireHostHeader: false, joinDuplicateHeaders: false });
    const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
    const oracle = new NodeOracle(server, port);
    // The first verdict on a connection is the head's; a later error is its body's (or a pipelined request's).
    const accept = (req: IncomingMessage, socket: Socket, readBody: boolean) => {
      const key = socket.remotePort as number;
      if (oracle.results.has(key)) return;
      const verdict: NodeVerdict = {
        accepted: true,
        method: req.method ?? '',
        url: req.url ?? '',
        ...framingOf(req),
        minor: req.httpVersionMinor,
        body: 'incomplete',
      };
      oracle.results.set(key, verdict);
      if (!readBody || verdict.framing !== 'chunked') {
        socket.destroy();
        return;
      }
      req.on('data', () => {});
      req.on('end', () => {
        verdict.body = 'complete';
        socket.destroy();
      });
      socket.on('close', () => oracle.bodyErrors.delete(key));
      oracle.bodyErrors.set(key, verdict);
    };
    server.on('request', (req, res) => accept(req, res.socket as Socket, true));
    server.on('checkExpectation', (req, res) => accept(req, res.socket as Socket, false));
    server.on('connect', (req: IncomingMessage, socket: Socket) => accept(req, socket, false));
    server.on('upgrade', (req: IncomingMessage, socket: Socket) => accept(req, socket, false));
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      const key = socket.remotePort as number;
      const pending = oracle.bodyErrors.get(key);
      if (pending?.accepted && pending.body === 'incomplete') pending.body = err.code ?? 'ERROR';
      if (!oracle.results.has(key)) oracle.results.set(key, { accepted: false, code: err.code ?? 'ERROR' });
      socket.destroy();
    });
    return oracle;
  }

  /** Node's verdict on `bytes` sent on a fresh connection (then half-closed). */
  async judge(bytes: Buffer): Promise<NodeVerdict> {
    const socket = connect(this.port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const local = socket.localPort as number;
    await new Promise<void>((resolve) => {
      socket.on('error', () => {});
      socket.on('data', () => {});
      socket.once('close', () => resolve());
      socket.end(bytes);
    });
    // The server has seen the close before the client: its verdict is recorded by now.
    const v = this.results.get(local) ?? { accepted: false, code: 'NO_REQUEST' };
    this.results.delete(local);
    return v;
  }

  async judgeAll(cases: readonly Buffer[], concurrency = 16): Promise<NodeVerdict[]> {
    const out: NodeVerdict[] = new Array(cases.length);
    let next = 0;
    const worker = async () => {
      while (next < cases.length) {
        const i = next++;
        out[i] = await this.judge(cases[i] as Buffer);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return out;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function framingOf(req: IncomingMessage): { framing: 'none' | 'length' | 'chunked'; length: number } {
  if (req.headers['transfer-encoding'] !== undefined) return { framing: 'chunked', length: 0 };
  const cl = req.headers['content-length'];
  if (cl !== undefined) return { framing: 'length', length: Number(cl) };
  return { framing: 'none', length: 0 };
}

export type NodeResponseVerdict =
  | { accepted: true; status: number; framing: 'none' | 'length' | 'chunked' | 'close'; length: number; minor: number }
  | { accepted: false; code: string };

/**
 * Node's HTTP client parser as an oracle for response heads: a node:net server answers
 * `GET /<i>` with the raw bytes of case i, and http.request reads them.
 */
export class NodeResponseOracle {
  private cases: readonly Buffer[] = [];
  private constructor(
    private readonly server: NetServer,
    readonly port: number,
    private readonly maxHeaderSize: number,
  ) {}

  static async start(maxHeaderSize: number): Promise<NodeResponseOracle> {
    let oracle: NodeResponseOracle | undefined;
    const server = createNetServer((socket) => {
      let got = '';
      socket.on('error', () => {});
      socket.on('data', (d) => {
        got += d.toString('latin1');
        const m = /^GET \/(\d+) /.exec(got);
        if (m === null || !got.includes('\r\n\r\n')) return;
        socket.end(oracle?.cases[Number(m[1])] ?? Buffer.alloc(0));
      });
    });
    const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
    oracle = new NodeResponseOracle(server, port, maxHeaderSize);
    return oracle;
  }

  judge(i: number): Promise<NodeResponseVerdict> {
    return new Promise((resolve) => {
      const req = request({ host: '127.0.0.1', port: this.port, path: `/${i}`, agent: false, maxHeaderSize: this.maxHeaderSize, insecureHTTPParser: false });
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        const te = res.headers['transfer-encoding'];
        const cl = res.headers['content-length'];
        const framing =
          status === 204 || status === 304
            ? 'none'
            : te !== undefined
              ? /(?:^|,)[ \t]*chunked[ \t]*$/i.test(te)
                ? 'chunked'
                : 'close'
              : cl !== undefined
                ? 'length'
                : 'close';
        resolve({ accepted: true, status, framing, length: framing === 'length' ? Number(cl) : 0, minor: res.httpVersionMinor });
        res.destroy();
      });
      req.on('error', (err: NodeJS.ErrnoException) => resolve({ accepted: false, code: err.code ?? 'ERROR' }));
      req.end();
    });
  }

  async judgeAll(cases: readonly Buffer[], concurrency = 16): Promise<NodeResponseVerdict[]> {
    this.cases = cases;
    const out: NodeResponseVerdict[] = new Array(cases.length);
    let next = 0;
    const worker = async () => {
      while (next < cases.length) {
        const i = next++;
        out[i] = await this.judge(i);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return out;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
