import { open } from 'node:fs/promises';
import type { ResolvedConfig } from '@rustlb/core';
import { crossCheck } from './cross-check.js';
import { deepFreeze, normalize } from './normalize.js';
import type { ConfigProblem } from './problems.js';
import type { RawConfig } from './raw.js';
import { checkSchema } from './schema.js';
import { MAX_FILE_BYTES, parseYaml } from './source.js';

export type ValidationResult =
  | { readonly ok: true; readonly config: ResolvedConfig; readonly warnings: readonly ConfigProblem[] }
  | {
      readonly ok: false;
      readonly errors: readonly ConfigProblem[];
      readonly warnings: readonly ConfigProblem[];
      /** The file could not be read at all (the one error says why). */
      readonly unreadable?: boolean;
    };

/**
 * YAML text → frozen configuration, or every problem found: YAML syntax first (nothing
 * else can be checked without a document), then the schema, then the cross-references
 * of every part the schema found well-formed.
 */
export function validateConfigText(text: string, configFile: string | null = null): ValidationResult {
  try {
    return validate(text, configFile);
  } catch (err) {
    // A bug, never an expected outcome (the property tests look for this message): still an
    // answer, not a stack trace, and the old configuration stays in force.
    const message = `internal error while validating (please report it): ${err instanceof Error ? err.message : String(err)}`;
    return { ok: false, errors: [{ path: '', line: 1, message }], warnings: [] };
  }
}

function validate(text: string, configFile: string | null): ValidationResult {
  const source = parseYaml(text);
  if (source.errors.length > 0) return { ok: false, errors: source.errors, warnings: [] };
  const given = source.data;
  const file = configFile === null ? 'the configuration' : configFile;
  if (given === null || given === undefined) {
    return { ok: false, errors: [{ path: '', line: 1, message: `${file} is empty: it needs frontends and backends` }], warnings: [] };
  }
  if (typeof given !== 'object' || Array.isArray(given)) {
    return { ok: false, errors: [{ path: '', line: 1, message: `${file} must be a mapping with frontends and backends` }], warnings: [] };
  }
  const data = structuredClone(given) as RawConfig;
  const schema = checkSchema(data, source.lineOf);
  const cross = crossCheck(data, given, source.lineOf, schema.brokenPaths);
  const errors = [...schema.problems, ...cross.errors].sort((x, y) => (x.line ?? 0) - (y.line ?? 0));
  if (errors.length > 0) return { ok: false, errors, warnings: cross.warnings };
  return { ok: true, config: deepFreeze(normalize(data, configFile)), warnings: cross.warnings };
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
  return { ...validateConfigText(text, file), text };
}
