import { createHash } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { configFiles, deepFreeze, readConfigText, type ValidationResult, validateConfigFile } from '@rustlb/config';
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

/** The configuration file and the certificate, key and CA files of `config`, by directory. */
function watchedNames(file: string, config: ResolvedConfig): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const f of [file, ...configFiles(config)]) {
    const dir = dirname(f);
    const names = out.get(dir) ?? new Set<string>();
    names.add(basename(f));
    out.set(dir, names);
  }
  return out;
}

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
  /** Watched directory -> the names in it that matter. */
  #watched = new Map<string, Set<string>>();

  constructor(file: string, initial: ResolvedConfig, overrides: Overrides, text: string, filesDigest: string | undefined) {
    this.file = resolve(file);
    this.#overrides = overrides;
    this.current = applyOverrides(initial, overrides);
    this.#hash = contentHash(text, filesDigest);
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
    this.#rewatch();
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
   * Watches the file's directory, and the directories of the certificate, key and CA files
   * the configuration in force names (a ConfigMap or Secret update swaps the `..data`
   * symlink there, an editor may save by rename, cert-manager or certbot replace files),
   * and calls `onEvent` once a burst of events is over. Whether the content really changed
   * is for the caller to find out, in order with the reloads it runs: comparing here would
   * race with a reload still in progress. Resolves once the watch is in place (events
   * before that are not reported). Each accepted configuration updates the watched files.
   */
  watch(onEvent: () => void, onError: (err: Error) => void): Promise<void> {
    this.#watched = watchedNames(this.file, this.current);
    this.#watcher = watch([...this.#watched.keys()], {
      ignoreInitial: true,
      depth: 0,
      followSymlinks: false,
      // Only the files themselves and Kubernetes' `..data` / `..<timestamp>` entries matter.
      ignored: (path: string) => {
        if (this.#watched.has(path)) return false;
        const names = this.#watched.get(dirname(path));
        if (names === undefined) return true;
        const name = basename(path);
        return !names.has(name) && !name.startsWith('..');
      },
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

  /** The directories and names watched now (for the log and tests). */
  get watchedFiles(): string[] {
    return [...this.#watched].flatMap(([dir, names]) => [...names].map((n) => join(dir, n)));
  }

  /** Watches the directories of the configuration in force (new certificate files), and no longer those it does not name. */
  #rewatch(): void {
    if (this.#watcher === null) return;
    const next = watchedNames(this.file, this.current);
    const added = [...next.keys()].filter((d) => !this.#watched.has(d));
    const removed = [...this.#watched.keys()].filter((d) => !next.has(d));
    this.#watched = next;
    if (added.length > 0) this.#watcher.add(added);
    if (removed.length > 0) this.#watcher.unwatch(removed);
  }

  async stopWatching(): Promise<void> {
    if (this.#debounce !== null) clearTimeout(this.#debounce);
    this.#debounce = null;
    await this.#watcher?.close();
    this.#watcher = null;
  }
}
