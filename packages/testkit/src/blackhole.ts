import { type ChildProcess, spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';

/**
 * An address whose connect never completes: a listening socket in a child process
 * whose event loop is blocked (so it never accepts), with its accept queue filled.
 * The kernel then drops further SYNs, so a connect hangs until the caller's timeout:
 * a black hole that works on loopback (a routed "unused" address may be answered by
 * a proxy or firewall in a sandbox). The child exits by itself after two minutes.
 */
export class Blackhole {
  readonly port: number;
  readonly #child: ChildProcess;
  readonly #fillers: Socket[];

  private constructor(port: number, child: ChildProcess, fillers: Socket[]) {
    this.port = port;
    this.#child = child;
    this.#fillers = fillers;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  static async start(): Promise<Blackhole> {
    const script =
      "const s=require('net').createServer().listen({port:0,host:'127.0.0.1',backlog:1},()=>{" +
      "process.stdout.write(s.address().port+'\\n');Atomics.wait(new Int32Array(new SharedArrayBuffer(4)),0,0,120000);process.exit(0)})";
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'ignore'] });
    const port = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`black hole exited with ${code}`)));
      child.stdout?.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
    });
    const fillers: Socket[] = [];
    // Fill the accept queue until a connect stops completing.
    for (let i = 0; i < 64; i++) {
      const s = connect(port, '127.0.0.1');
      s.on('error', () => {});
      fillers.push(s);
      const done = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 300);
        s.once('connect', () => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      if (!done) return new Blackhole(port, child, fillers);
    }
    child.kill('SIGKILL');
    for (const s of fillers) s.destroy();
    throw new Error('could not fill the accept queue of the black hole');
  }

  close(): void {
    for (const s of this.#fillers) s.destroy();
    this.#child.kill('SIGKILL');
  }
}
