import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { fieldValueProblem, isFieldName, isFieldValue, parseCidr, parseHostPort } from '@rustlb/core';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { didYouMean } from './did-you-mean.js';
import { hostPortProblem } from './host-port-problem.js';
import { type ConfigProblem, formatPath, type PathSegment, quote } from './problems.js';
import { parseDuration, parseSize } from './units.js';

/** The one JSON Schema: shape, defaults and the descriptions the docs are checked against. */
export const SCHEMA_URL = new URL('../../schema/rustlb.schema.json', import.meta.url);
export const schema: Record<string, unknown> = JSON.parse(readFileSync(SCHEMA_URL, 'utf8'));

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
  // The data plane's own byte rules (RFC 9110 §5.1, §5.5), so what validates can be sent.
  ajv.addFormat('header-name', (s: string) => isFieldName(s));
  ajv.addFormat('header-value', (s: string) => isFieldValue(s));
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
  /** Paths under which something is wrong: cross-checks skip them, their ancestors and descendants. */
  readonly brokenPaths: readonly (readonly PathSegment[])[];
}

/**
 * Validates `data` in place (defaults are filled in) and maps every Ajv error to a
 * problem with a path, a line and one readable sentence.
 */
export function checkSchema(data: unknown, lineOf: (p: readonly PathSegment[], key?: boolean) => number | null): SchemaResult {
  lowerCaseLogLevel(data);
  const validate = validator();
  if (validate(data)) return { problems: [], brokenPaths: [] };
  const errors = validate.errors ?? [];
  // An anyOf speaks for its branches: drop the branch errors it already covers.
  const anyOfPaths = errors.filter((e) => e.keyword === 'anyOf').map((e) => e.schemaPath.replace(/\/anyOf$/, '/anyOf/'));
  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  const broken: PathSegment[][] = [];
  for (const e of errors) {
    // propertyNames repeats what its inner error (carrying the name) says.
    if (e.keyword === 'propertyNames') continue;
    if (anyOfPaths.some((p) => e.schemaPath.startsWith(p))) continue;
    const { problem: p, segments } = describe(e, data, lineOf);
    broken.push(segments);
    // One sentence per path is enough: a size that is neither a string nor a valid format says it once.
    const id = `${p.path}\n${p.message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    problems.push(p);
  }
  return { problems, brokenPaths: broken };
}

type LineOf = (p: readonly PathSegment[], key?: boolean) => number | null;

/** `global.log_level` is read in any case (`INFO`, `Warn`), as the original read it. */
function lowerCaseLogLevel(data: unknown): void {
  const g = (data as { global?: unknown } | null)?.global;
  if (g === null || typeof g !== 'object' || Array.isArray(g)) return;
  const level = (g as { log_level?: unknown }).log_level;
  if (typeof level === 'string') (g as { log_level: string }).log_level = level.toLowerCase();
}

/** One Ajv error as a problem, and the path it makes unusable for later checks. */
function describe(e: ErrorObject, data: unknown, lineOf: LineOf): { problem: ConfigProblem; segments: PathSegment[] } {
  const segs = segmentsOf(e.instancePath, data);
  const at = (segments: PathSegment[], message: string, key = false) => ({
    problem: { path: formatPath(segments), line: lineOf(segments, key), message },
    segments,
  });
  const parent = (e.parentSchema ?? {}) as SchemaWithHint;
  const hint = (e.schema as SchemaWithHint | undefined)?.errorHint ?? parent.errorHint;
  switch (e.keyword) {
    case 'required': {
      const missing = (e.params as { missingProperty: string }).missingProperty;
      return { problem: { path: formatPath([...segs, missing]), line: lineOf(segs), message: 'is required' }, segments: [...segs, missing] };
    }
    case 'additionalProperties': {
      const key = (e.params as { additionalProperty: string }).additionalProperty;
      const known = Object.keys(parent.properties ?? {});
      const guess = didYouMean(key, known);
      return at([...segs, key], guess === null ? `unknown key ${quote(key)}` : `unknown key ${quote(key)} (did you mean "${guess}"?)`, true);
    }
    case 'enum': {
      const allowed = ((e.params as { allowedValues: unknown[] }).allowedValues ?? []).map(String);
      const got = e.data;
      const guess = typeof got === 'string' ? didYouMean(got, allowed) : null;
      // A hint says why the other values are refused (min_version: TLS 1.0 and 1.1).
      if (hint !== undefined) return at(segs, `${hint} (got ${shown(got)})`);
      return at(segs, `must be one of ${allowed.join(', ')} (got ${shown(got)})${guess === null ? '' : `; did you mean "${guess}"?`}`);
    }
    default: {
      const name = e.propertyName;
      if (name !== undefined) return at([...segs, name], `header name ${quote(name)} ${hint ?? e.message ?? 'is invalid'}`, true);
      const format = e.keyword === 'format' ? (e.params as { format: string }).format : null;
      // The host:port explanation already quotes the value.
      if (format === 'host-port' && typeof e.data === 'string') return at(segs, hostPortProblem(e.data));
      if (format === 'header-value' && typeof e.data === 'string')
        return at(segs, `is not a header value: ${fieldValueProblem(e.data) ?? 'invalid'} (got ${shown(e.data)})`);
      const base = lengthMessage(e) ?? hint ?? (e.keyword === 'type' ? typeMessage(e.params as { type: string | string[] }) : (e.message ?? 'is invalid'));
      return at(segs, `${base} (got ${shown(e.data)})`);
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
  return typeof value === 'string' ? quote(value) : String(value);
}
