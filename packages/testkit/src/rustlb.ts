import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { get } from './http-client.js';
import { freePort } from './ports.js';
import { waitFor } from './wait.js';

/** The repository root (this file is packages/testkit/dist/src/rustlb.js). */
export const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const RUSTLB_BIN = join(ROOT, 'bin/rustlb');
export const CTL_BIN = join(ROOT, 'bin/rustlb-ctl');

export type LogLine = Record<string, unknown> & { msg?: string; level?: string };

export interface RustlbOptions {
  /** The YAML document as an object; metrics address and control socket are filled in when absent. */
  readonly config: Record<string, unknown>;
  /** `--workers` (default 2); null leaves the option out, so `global.workers` decides. */
  readonly workers?: number | null;
  readonly args?: readonly string[];
  readonly env?: Record<string, string>;
  /** Wait for /readyz 200 before resolving (default true). */
  readonly waitReady?: boolean;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

/** The real `bin/rustlb`, spawned as a process, with its log lines collected. */
export class RustlbProcess {
  readonly child: ChildProcess;
  readonly dir: string;
  readonly configFile: string;
  readonly metricsPort: number;
  readonly socket: string;
  readonly logs: LogLine[] = [];
  /** stdout lines that are not JSON (must stay empty with log_format json). */
  readonly strayLines: string[] = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(child: ChildProcess, dir: string, configFile: string, metricsPort: number, socket: string) {
    this.child = child;
    this.dir = dir;
    this.configFile = configFile;
    this.metricsPort = metricsPort;
    this.socket = socket;
    running.add(child);
    let buffer = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      buffer += chunk;
      let nl = buffer.indexOf('\n');
      while (nl >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.trim() !== '') {
          try {
            this.logs.push(JSON.parse(line) as LogLine);
          } catch {
            this.strayLines.push(line);
          }
        }
        nl = buffer.indexOf('\n');
      }
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        running.delete(child);
        resolve({ code, signal });
      });
    });
  }

  static async start(options: RustlbOptions): Promise<RustlbProcess> {
    const dir = mkdtempSync(join(tmpdir(), 'rustlb-test-'));
    const config = structuredClone(options.config) as { global?: Record<string, unknown> };
    config.global ??= {};
    const global = config.global;
    global.metrics ??= {};
    const metrics = global.metrics as Record<string, unknown>;
    let metricsPort: number;
    if (typeof metrics.address === 'string') metricsPort = Number(metrics.address.split(':').pop());
    else {
      metricsPort = await freePort();
      metrics.address = `127.0.0.1:${metricsPort}`;
    }
    global.admin ??= {};
    const admin = global.admin as Record<string, unknown>;
    admin.socket ??= join(dir, 'rustlb.sock');
    const configFile = join(dir, 'rustlb.yaml');
    writeFileSync(configFile, stringify(config));
    const workers = options.workers === null ? [] : ['--workers', String(options.workers ?? 2)];
    const child = spawn(process.execPath, [RUSTLB_BIN, '--config', configFile, ...workers, ...(options.args ?? [])], {
      cwd: ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const rustlb = new RustlbProcess(child, dir, configFile, metricsPort, admin.socket as string);
    if (options.waitReady !== false) await rustlb.waitReady();
    return rustlb;
  }

  /** Replaces the config file (for reloads). */
  writeConfig(config: Record<string, unknown>): void {
    const c = structuredClone(config) as { global?: Record<string, unknown> };
    c.global ??= {};
    const global = c.global;
    global.metrics = { ...((global.metrics as object) ?? {}), address: `127.0.0.1:${this.metricsPort}` };
    global.admin = { ...((global.admin as object) ?? {}), socket: this.socket };
    writeFileSync(this.configFile, stringify(c));
  }

  async readyz(): Promise<{ status: number; body: Record<string, unknown> }> {
    const r = await get(this.metricsPort, { path: '/readyz', timeoutMs: 2000 });
    return { status: r.status, body: JSON.parse(r.text) as Record<string, unknown> };
  }

  async waitReady(timeoutMs = 15_000): Promise<void> {
    await waitFor(
      async () => {
        if (this.child.exitCode !== null) throw new Error(`rustlb exited with ${this.child.exitCode}: ${this.stderr}`);
        return (await this.readyz()).status === 200;
      },
      'rustlb /readyz to answer 200',
      timeoutMs,
      50,
    );
  }

  waitForLog(match: (line: LogLine) => boolean, what: string, timeoutMs = 10_000): Promise<LogLine> {
    return waitFor(() => this.logs.find(match), `log line: ${what}`, timeoutMs);
  }

  async metrics(): Promise<string> {
    return (await get(this.metricsPort, { path: '/metrics', timeoutMs: 5000 })).text;
  }

  /** pids of the workers alive now, from the lifecycle log lines. */
  workerPids(): number[] {
    const alive = new Set<number>();
    for (const l of this.logs) {
      if (l.msg === 'worker forked') alive.add(l.workerPid as number);
      if (l.msg === 'worker exited' || l.msg === 'worker died unexpectedly; respawning') alive.delete(l.workerPid as number);
    }
    return [...alive];
  }

  ctl(args: readonly string[], timeoutMs = 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
    return runCtl(['--socket', this.socket, ...args], timeoutMs);
  }

  /** Sends `signal` and waits for the exit (killing it after `timeoutMs`). */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 40_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const result = await this.exited;
    clearTimeout(timer);
    return result;
  }

  /** Stops (if running) and removes the temporary directory. */
  async dispose(): Promise<void> {
    await this.stop('SIGKILL', 5000);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function runCtl(args: readonly string[], timeoutMs = 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CTL_BIN, ...args], { cwd: ROOT, timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs `bin/rustlb` to completion (for --validate, usage errors, start failures). */
export function runRustlb(args: readonly string[], timeoutMs = 30_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [RUSTLB_BIN, ...args], { cwd: ROOT, timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : null;
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * The value of a metric in Prometheus text: the sum over every series whose labels
 * include `labels`. Null when no series matches.
 */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number | null {
  let sum: number | null = null;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (.+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const got: Record<string, string> = {};
    for (const l of (m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) got[l[1] as string] = l[2] as string;
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) sum = (sum ?? 0) + Number(m[4]);
  }
  return sum;
}
