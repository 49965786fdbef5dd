import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ROOT, RUSTLB_BIN, RustlbProcess } from './rustlb.js';

/**
 * A Kubernetes ConfigMap volume, laid out and updated the way the kubelet's
 * AtomicWriter does it (pkg/volume/util/atomic_writer.go):
 *
 *   dir/..2026_01_02_03_04_05.123/rustlb.yaml   the payload of one version
 *   dir/..data -> ..2026_01_02_03_04_05.123     the version in force
 *   dir/rustlb.yaml -> ..data/rustlb.yaml       what the program opens
 *
 * An update writes a new timestamped directory, points a fresh `..data_tmp` symlink at
 * it, renames that over `..data` (the atomic step) and removes the old directory.
 */
export class ConfigMapVolume {
  readonly dir: string;
  #version = 0;

  constructor(dir: string) {
    this.dir = dir;
  }

  #timestampDir(): string {
    this.#version++;
    const t = new Date().toISOString().replace(/[-:T]/g, '_').replace(/\..*/, '');
    return mkdtempSync(join(this.dir, `..${t}.${this.#version}`));
  }

  /** Writes a version of the files; the first call also creates the user-visible symlinks. */
  write(files: Record<string, string>): void {
    mkdirSync(this.dir, { recursive: true });
    const data = join(this.dir, '..data');
    let old: string | null = null;
    try {
      old = readlinkSync(data);
    } catch {
      // First version.
    }
    const ts = this.#timestampDir();
    for (const [name, text] of Object.entries(files)) writeFileSync(join(ts, name), text);
    const tmp = join(this.dir, '..data_tmp');
    symlinkSync(basename(ts), tmp);
    renameSync(tmp, data);
    for (const name of Object.keys(files)) {
      try {
        symlinkSync(join('..data', name), join(this.dir, name));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    if (old !== null) rmSync(join(this.dir, old), { recursive: true, force: true });
  }
}

/** Saves `text` the way many editors do: a temporary file in the same directory, renamed over the original. */
export function saveByRename(file: string, text: string): void {
  const tmp = join(file, '..', `.${basename(file)}.${process.pid}.swp`);
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

export interface RustlbAtOptions {
  /** The config file as prepared by the caller (any layout); rustlb is started on it untouched. */
  readonly configFile: string;
  /** Directory removed by dispose(). */
  readonly dir: string;
  /** The metrics address's port in that file (the harness waits on its /readyz). */
  readonly metricsPort: number;
  /** The control socket path the daemon will use (for `.ctl()`). */
  readonly socket: string;
  readonly workers?: number;
  readonly args?: readonly string[];
  readonly env?: Record<string, string>;
  readonly waitReady?: boolean;
}

/**
 * Like RustlbProcess.start, for a config file the caller laid out itself (a ConfigMap
 * volume, a file without `admin.socket`): the harness writes nothing.
 */
export async function startRustlbAt(options: RustlbAtOptions): Promise<RustlbProcess> {
  const child = spawn(process.execPath, [RUSTLB_BIN, '--config', options.configFile, '--workers', String(options.workers ?? 2), ...(options.args ?? [])], {
    cwd: ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // The harness's constructor is private to keep tests on start(); this helper is the one other way in.
  const rustlb = Reflect.construct(RustlbProcess, [child, options.dir, options.configFile, options.metricsPort, options.socket]) as RustlbProcess;
  if (options.waitReady !== false) await rustlb.waitReady();
  return rustlb;
}
