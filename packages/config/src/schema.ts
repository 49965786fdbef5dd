import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { parseCidr, parseHostPort } from '@rustlb/core';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { didYouMean } from './did-you-mean.js';
import { hostPortProblem } from './host-port-problem.js';
import { type ConfigProblem, formatPath, type PathSegment } from './problems.js';
import { parseDuration, parseSize } from './units.js';

/** The one JSON Schema: shape, defaults and the descriptions the docs are checked against. */
export const SCHEMA_URL = new URL('../../schema/rustlb.schema.json', import.meta.url);
export const schema: Record<string, unknown> = JSON.parse(readFileSync(SCHEMA_URL, 'utf8'));

const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;

let compiled: ValidateFunction | null = null;

function validator(): ValidateFunction {
  if (compiled !== null) return compiled;
  const ajv = new Ajv({ allErrors: true, useDefaults: true, verbose: true, strict: true, allowUnionTypes: true });
  // An annotation the error mapper reads: one human sentence instead of Ajv's wording.
  ajv.addKeyword({ keyword: 'errorHint', schemaType: 'string' });
  ajv.addFormat('duration', (s: string) => parseDuration(s) !== null);
  // A zero probe or resolve interval would loop as fast as the event loop turns.
  ajv.addFormat('positive-duration', (s: string) => (parseDuration(s) ?? 0) > 0);
  ajv.addFormat('size', { type: 'string', validate: (s: string) => parseSize(s) !== null });
  ajv.addFormat('host-port', (s: string) => parseHostPort(s) !== null);
  ajv.addFormat('resolver', (s: string) => isIP(s) !== 0 || (parseHostPort(s) !== null && isIP(parseHostPort(s)?.host ?? '') !== 0));
  ajv.addFormat('cidr', (s: string) => parseCidr(s) !== null);
  ajv.addFormat('header-value', (s: string) => !CONTROL.test(s));
  compiled = ajv.compile(schema);
  return compiled;
}

interface SchemaWithHint {
  errorHint?: string;
  properties?: Record<string, unknown>;
  enum?: unknown[];
}

function segmentsOf(instancePath: string, data: unknown): PathSegment[] {
  if (instancePath === '') return [];
  const out: PathSegment[] = [];
  let node: unknown = data;
  for (const raw of instancePath.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      out.push(Number(seg));
      node = node[Number(seg)];
    } else {
      out.push(seg);
      node = (node as Record<string, unknown> | undefined)?.[seg];
    }
  }
  return out;
}

export interface SchemaResult {
  readonly problems: ConfigProblem[];
  /** Paths (formatted) under which something is wrong: cross-checks skip them. */
  readonly brokenPaths: readonly string[];
}

/**
 * Validates `data` in place (defaults are filled in) and maps every Ajv error to a
 * problem with a path, a line and one readable sentence.
 */
export function checkSchema(data: unknown, lineOf: (p: readonly PathSegment[], key?: boolean) => number | null): SchemaResult {
  const validate = validator();
  if (validate(data)) return { problems: [], brokenPaths: [] };
  const errors = validate.errors ?? [];
  // An anyOf speaks for its branches: drop the branch errors it already covers.
  const anyOfPaths = errors.filter((e) => e.keyword === 'anyOf').map((e) => e.schemaPath.replace(/\/anyOf$/, '/anyOf/'));
  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  const broken: string[] = [];
  for (const e of errors) {
    // propertyNames repeats what its inner error (carrying the name) says.
    if (e.keyword === 'propertyNames') continue;
    if (anyOfPaths.some((p) => e.schemaPath.startsWith(p))) continue;
    const p = describe(e, data, lineOf);
    const id = `${p.path}\n${p.message}`;
    // One sentence per path is enough: a size that is neither a string nor a valid format says it once.
    if (seen.has(id) || problems.some((q) => q.path === p.path && e.keyword !== 'required' && e.keyword !== 'additionalProperties' && q.message === p.message))
      continue;
    seen.add(id);
    problems.push(p);
    broken.push(p.path);
  }
  return { problems, brokenPaths: broken };
}

function describe(e: ErrorObject, data: unknown, lineOf: (p: readonly PathSegment[], key?: boolean) => number | null): ConfigProblem {
  const segs = segmentsOf(e.instancePath, data);
  const parent = (e.parentSchema ?? {}) as SchemaWithHint;
  const hint = (e.schema as SchemaWithHint | undefined)?.errorHint ?? parent.errorHint;
  switch (e.keyword) {
    case 'required': {
      const missing = (e.params as { missingProperty: string }).missingProperty;
      return { path: formatPath([...segs, missing]), line: lineOf(segs), message: 'is required' };
    }
    case 'additionalProperties': {
      const key = (e.params as { additionalProperty: string }).additionalProperty;
      const known = Object.keys(parent.properties ?? {});
      const guess = didYouMean(key, known);
      const at = [...segs, key];
      const message = guess === null ? `unknown key "${key}"` : `unknown key "${key}" (did you mean "${guess}"?)`;
      return { path: formatPath(at), line: lineOf(at, true), message };
    }
    case 'enum': {
      const allowed = ((e.params as { allowedValues: unknown[] }).allowedValues ?? []).map(String);
      const got = e.data;
      const guess = typeof got === 'string' ? didYouMean(got, allowed) : null;
      const message = `must be one of ${allowed.join(', ')} (got ${JSON.stringify(got)})${guess === null ? '' : `; did you mean "${guess}"?`}`;
      return { path: formatPath(segs), line: lineOf(segs), message };
    }
    default: {
      const name = e.propertyName;
      const at = name === undefined ? segs : [...segs, name];
      if (name !== undefined) return { path: formatPath(at), line: lineOf(at, true), message: `header name "${name}" ${hint ?? e.message ?? 'is invalid'}` };
      const format = e.keyword === 'format' ? (e.params as { format: string }).format : null;
      // The host:port explanation already quotes the value.
      if (format === 'host-port' && typeof e.data === 'string') return { path: formatPath(at), line: lineOf(at), message: hostPortProblem(e.data) };
      const base = lengthMessage(e) ?? hint ?? (e.keyword === 'type' ? typeMessage(e.params as { type: string | string[] }) : (e.message ?? 'is invalid'));
      return { path: formatPath(at), line: lineOf(at), message: `${base} (got ${shown(e.data)})` };
    }
  }
}

const TYPE_WORDS: Readonly<Record<string, string>> = {
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping (key: value lines)',
  string: 'a string',
  integer: 'a whole number',
  number: 'a number',
};

/** Length limits say which limit: a hint about the allowed characters would mislead. */
function lengthMessage(e: ErrorObject): string | null {
  const limit = (e.params as { limit?: number }).limit ?? 0;
  switch (e.keyword) {
    case 'minLength':
      return limit === 1 ? 'must not be empty' : `must be at least ${limit} characters long`;
    case 'maxLength':
      return `must be at most ${limit} characters long`;
    case 'minItems':
      return `must list at least ${limit} item${limit === 1 ? '' : 's'}`;
    default:
      return null;
  }
}

function typeMessage(params: { type: string | string[] }): string {
  const types = Array.isArray(params.type) ? params.type : params.type.split(',');
  return `must be ${types.map((t) => TYPE_WORDS[t] ?? t).join(' or ')}`;
}

/** The offending value, short enough for one line of an error list. */
function shown(value: unknown): string {
  if (value === null || value === undefined) return 'an empty value';
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : 'a list';
  if (typeof value === 'object') return 'a mapping';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}..."` : text;
}
