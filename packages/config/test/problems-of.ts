import assert from 'node:assert/strict';
import type { ResolvedConfig } from '@rustlb/core';
import { formatProblem, validateConfigText } from '../src/index.js';

/** Lines joined into a file, so a test's line numbers are its array positions + 1. */
export function yaml(...lines: string[]): string {
  return `${lines.join('\n')}\n`;
}

/** Every error of an invalid configuration, as `rustlb --validate` prints them. */
export function errorsOf(text: string): string[] {
  const r = validateConfigText(text);
  assert.equal(r.ok, false, 'the configuration was accepted');
  return r.ok ? [] : r.errors.map(formatProblem);
}

export function warningsOf(text: string): string[] {
  return validateConfigText(text).warnings.map(formatProblem);
}

export function configOf(text: string, file: string | null = null): ResolvedConfig {
  const r = validateConfigText(text, file);
  if (!r.ok) assert.fail(`the configuration was rejected:\n${r.errors.map(formatProblem).join('\n')}`);
  return r.config;
}

/** A valid pool other tests can point at, starting at the given line (4 lines). */
export const POOL = ['backends:', '  - name: pool', '    servers:', '      - address: "127.0.0.1:9001"'] as const;
