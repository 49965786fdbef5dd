import { createHash } from 'node:crypto';
import { basename, dirname, resolve } from 'node:path';
import { configFilesDigest, deepFreeze, readConfigText, type ValidationResult, validateConfigFile } from '@rustlb/config';
import type { LogLevel, ResolvedConfig } from '@rustlb/core';
import { type FSWatcher, watch } from 'chokidar';

/** Command-line settings that win over the file. */
export interface Overrides {
  readonly logLevel?: LogLevel | undefined;
}

export function applyOverrides(config: ResolvedConfig, overrides: Overrides): ResolvedConfig {
  if (overrides.logLevel === undefined) return config;
  return deepFreeze({ ...config, global: { ...config.global, logLevel: overrides.logLevel } });
}

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

/** The content a configuration is made of: its text and the certificate, key and CA files it names. */
const contentHash = (text: string, filesDigest: string | undefined) => sha(filesDigest === undefined ? text : `${text}\0${filesDigest}`);

/** A change event is followed by a read after this quiet time (editors write in bursts). */
const DEBOUNCE_MS = 200;
/** A ConfigMap swap or a rename-save can leave no file for an instant: retry the read. */
const READ_RETRIES = 10;
const READ_RETRY_MS = 100;
/** Start-up does not wait longer than this for the watch (a slow file system): it is in place soon after. */
const WATCH_READY_MS = 5_000;

/**
 * Owns the configuration: the file, the generation in force, validation of new
 * versions and the watch on the file. It never applies anything itself.
 */
export class ConfigOwner {
  readonly file: string;
  readonly #overrides: Overrides;
  current: ResolvedConfig;
  generation = 1;
  loadedAt = Date.now();
  #hash: string | null = null;
  #watcher: FSWatcher | null = null;
  #debounce: NodeJS.Timeout | null = null;

  constructor(file: string, initial: ResolvedConfig, overrides: Overrides, text: string) {
    this.file = resolve(file);
    this.#overrides = overrides;
    this.current = applyOverrides(initial, overrides);
    this.#hash = contentHash(text, configFilesDigest(initial));
  }

  /** Reads and validates the file (retrying a read that fails right after a change). */
  async load(): Promise<{ result: ValidationResult; hash: string | null }> {
    let text: string | null = null;
    let lastError: NodeJS.ErrnoException | null = null;
    for (let i = 0; i < READ_RETRIES && text === null; i++) {
      try {
        text = await readConfigText(this.file);
      } catch (err) {
        lastError = err as NodeJS.ErrnoException;
        await new Promise((r) => setTimeout(r, READ_RETRY_MS));
      }
    }
    if (text === null) {
      const message = `cannot read ${this.file}: ${lastError?.code === 'ENOENT' ? 'no such file' : (lastError?.message ?? 'unknown error')}`;
      return { result: { ok: false, errors: [{ path: '', line: null, message }], warnings: [] }, hash: null };
    }
    const result = await validateConfigFile(text, this.file);
    // The certificate, key and CA files count as content: a renewed certificate under an
    // unchanged configuration text is a change.
    const hash = contentHash(text, result.filesDigest);
    if (!result.ok) return { result, hash };
    return { result: { ...result, config: applyOverrides(result.config, this.#overrides) }, hash };
  }

  /** The new configuration is in force. */
  accept(config: ResolvedConfig, hash: string | null): number {
    this.current = config;
    this.generation++;
    this.loadedAt = Date.now();
    if (hash !== null) this.#hash = hash;
    return this.generation;
  }

  /** Remembers a rejected version, so an unchanged broken file is not retried on every event. */
  rejected(hash: string | null): void {
    if (hash !== null) this.#hash = hash;
  }

  /** Hash of the text last accepted or rejected: a file event with this content changes nothing. */
  get hash(): string | null {
    return this.#hash;
  }

  /**
   * Watches the file's directory (a ConfigMap update swaps the `..data` symlink there,
   * an editor may save by rename) and calls `onEvent` once a burst of events is over.
   * Whether the content really changed is for the caller to find out, in order with
   * the reloads it runs: comparing here would race with a reload still in progress.
   * Resolves once the watch is in place (events before that are not reported).
   */
  watch(onEvent: () => void, onError: (err: Error) => void): Promise<void> {
    const dir = dirname(this.file);
    const name = basename(this.file);
    this.#watcher = watch(dir, {
      ignoreInitial: true,
      depth: 0,
      followSymlinks: false,
      // Only the file itself and Kubernetes' `..data` / `..<timestamp>` entries matter.
      ignored: (path: string) => path !== dir && basename(path) !== name && !basename(path).startsWith('..'),
    });
    this.#watcher.on('all', () => {
      if (this.#debounce !== null) clearTimeout(this.#debounce);
      this.#debounce = setTimeout(() => {
        this.#debounce = null;
        onEvent();
      }, DEBOUNCE_MS);
    });
    this.#watcher.on('error', (err) => onError(err as Error));
    const watcher = this.#watcher;
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, WATCH_READY_MS);
      watcher.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  async stopWatching(): Promise<void> {
    if (this.#debounce !== null) clearTimeout(this.#debounce);
    this.#debounce = null;
    await this.#watcher?.close();
    this.#watcher = null;
  }
}
