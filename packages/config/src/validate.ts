import { open } from 'node:fs/promises';
import type { ResolvedConfig } from '@rustlb/core';
import { crossCheck } from './cross-check.js';
import { deepFreeze, normalize } from './normalize.js';
import type { ConfigProblem, PathSegment } from './problems.js';
import type { RawConfig } from './raw.js';
import { checkSchema } from './schema.js';
import { MAX_FILE_BYTES, parseYaml } from './source.js';
import { checkTls, type FileReads, filesDigest, readTlsFiles, readTlsFilesSync, tlsFiles } from './tls-files.js';

export type ValidationResult =
  | {
      readonly ok: true;
      readonly config: ResolvedConfig;
      readonly warnings: readonly ConfigProblem[];
      /** Digest of the certificate, key and CA files read (see `filesDigest`); absent when none were. */
      readonly filesDigest?: string;
    }
  | {
      readonly ok: false;
      readonly errors: readonly ConfigProblem[];
      readonly warnings: readonly ConfigProblem[];
      /** The file could not be read at all (the one error says why). */
      readonly unreadable?: boolean;
      readonly filesDigest?: string;
    };

/**
 * YAML text → frozen configuration, or every problem found: YAML syntax first (nothing
 * else can be checked without a document), then the schema, then the cross-references
 * of every part the schema found well-formed, then the certificate, key and CA files it
 * names (read synchronously here; `validateConfigFile` reads them asynchronously).
 */
export function validateConfigText(text: string, configFile: string | null = null): ValidationResult {
  return guarded(() => {
    const stage = check(text, configFile);
    if ('done' in stage) return stage.done;
    return finish(stage, readTlsFilesSync(tlsFiles(stage.data, configFile)), configFile);
  });
}

/** `validateConfigText` with the certificate, key and CA files read asynchronously (the primary's event loop keeps turning). */
export async function validateConfigFile(text: string, configFile: string | null): Promise<ValidationResult> {
  const stage = guarded(() => check(text, configFile));
  if ('ok' in stage) return stage;
  if ('done' in stage) return stage.done;
  const reads = await readTlsFiles(tlsFiles(stage.data, configFile));
  return guarded(() => finish(stage, reads, configFile));
}

function guarded<T>(fn: () => T): T | ValidationResult {
  try {
    return fn();
  } catch (err) {
    // A bug, never an expected outcome (the property tests look for this message): still an
    // answer, not a stack trace, and the old configuration stays in force.
    const message = `internal error while validating (please report it): ${err instanceof Error ? err.message : String(err)}`;
    return { ok: false, errors: [{ path: '', line: 1, message }], warnings: [] };
  }
}

interface Checked {
  readonly data: RawConfig;
  readonly lineOf: (p: readonly PathSegment[], key?: boolean) => number | null;
  readonly errors: readonly ConfigProblem[];
  readonly warnings: readonly ConfigProblem[];
}

function check(text: string, configFile: string | null): { done: ValidationResult } | Checked {
  const source = parseYaml(text);
  if (source.errors.length > 0) return { done: { ok: false, errors: source.errors, warnings: [] } };
  const given = source.data;
  const file = configFile === null ? 'the configuration' : configFile;
  if (given === null || given === undefined) {
    return { done: { ok: false, errors: [{ path: '', line: 1, message: `${file} is empty: it needs frontends and backends` }], warnings: [] } };
  }
  if (typeof given !== 'object' || Array.isArray(given)) {
    return { done: { ok: false, errors: [{ path: '', line: 1, message: `${file} must be a mapping with frontends and backends` }], warnings: [] } };
  }
  const data = structuredClone(given) as RawConfig;
  const schema = checkSchema(data, source.lineOf);
  const cross = crossCheck(data, given, source.lineOf, schema.brokenPaths);
  const errors = [...schema.problems, ...cross.errors];
  if (schema.problems.length > 0) return { done: { ok: false, errors: sortByLine(errors), warnings: cross.warnings } };
  return { data, lineOf: source.lineOf, errors, warnings: cross.warnings };
}

const sortByLine = (list: readonly ConfigProblem[]) => [...list].sort((x, y) => (x.line ?? 0) - (y.line ?? 0));

function finish(stage: Checked, reads: FileReads, configFile: string | null): ValidationResult {
  const tls = checkTls(stage.data, stage.lineOf, configFile, reads);
  const digest = reads.size === 0 ? {} : { filesDigest: filesDigest(reads) };
  const errors = sortByLine([...stage.errors, ...tls.errors]);
  const warnings = sortByLine([...stage.warnings, ...tls.warnings]);
  if (errors.length > 0) return { ok: false, errors, warnings, ...digest };
  return { ok: true, config: deepFreeze(normalize(stage.data, configFile, tls)), warnings, ...digest };
}

/** A validated file with the exact text that was validated (the file may change afterwards). */
export type LoadedConfig =
  | (Extract<ValidationResult, { ok: true }> & { readonly text: string })
  | (Extract<ValidationResult, { ok: false }> & { readonly text: string | null });

/**
 * The text of a configuration file, read up to one byte past the size limit (validation
 * then refuses it): a huge file, or a device that never ends (/dev/zero), is not read
 * whole.
 */
export async function readConfigText(file: string): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(MAX_FILE_BYTES + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return buffer.toString('utf8', 0, length);
  } finally {
    await handle.close();
  }
}

/** Reads and validates a file; a missing or unreadable file is one problem, not a throw. */
export async function loadConfigFile(file: string): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await readConfigText(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : String(err);
    return { ok: false, errors: [{ path: '', line: null, message: `cannot read ${file}: ${why}` }], warnings: [], unreadable: true, text: null };
  }
  return { ...(await validateConfigFile(text, file)), text };
}
