/**
 * Arbitrary configuration files for property tests (issue 19): plausible configurations
 * built from the schema's own shape, then values of every type put at any key position
 * the schema knows, then arbitrary YAML around them (anchors, aliases, tags, deep nesting,
 * huge scalars, control characters, truncation, stray bytes). Used by the fast run in
 * this package's tests, by test/config-apply.test.ts (what validates can be applied) and
 * by scripts/fuzz-config.mjs (the long run, against the built dist).
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Alias, Document, isAlias, isCollection, isMap, isNode, isSeq, type Node, stringify } from 'yaml';
import { formatProblem, schema, type ValidationResult, validateConfigText } from '../src/index.js';

const ITEM = Symbol('list item');
const KEY = Symbol('map key');
type Segment = string | typeof ITEM | typeof KEY;

interface SchemaNode {
  $ref?: string;
  properties?: Record<string, SchemaNode>;
  additionalProperties?: SchemaNode | boolean;
  items?: SchemaNode;
}

function deref(node: SchemaNode): SchemaNode {
  if (node.$ref === undefined) return node;
  const definitions = (schema as { definitions: Record<string, SchemaNode> }).definitions;
  return { ...definitions[node.$ref.replace('#/definitions/', '')], ...node, $ref: undefined } as SchemaNode;
}

/** Every key position of the schema: sections, list items, map entries and leaves. */
export function schemaPaths(): Segment[][] {
  const out: Segment[][] = [];
  const walk = (raw: SchemaNode, path: Segment[]): void => {
    out.push(path);
    const node = deref(raw);
    for (const [key, child] of Object.entries(node.properties ?? {})) walk(child, [...path, key]);
    if (typeof node.additionalProperties === 'object') walk(node.additionalProperties, [...path, KEY]);
    if (node.items !== undefined) walk(node.items, [...path, ITEM]);
  };
  walk(schema as SchemaNode, []);
  return out;
}

const PATHS = schemaPaths();

// ---- plausible values -------------------------------------------------------------------

const NAMES = ['web', 'api', 'pool', 'static', 'a.b', 'x:y', 'b-1'] as const;
const name = fc.constantFrom<string>(...NAMES);
const positiveDuration = fc.constantFrom('1s', '500ms', '1m30s', '5s', '10 s', '1h', '2d', '100ms');
const duration = fc.oneof(positiveDuration, fc.constant('0s'));
const address = fc.oneof(
  fc.integer({ min: 1, max: 65535 }).map((p) => `127.0.0.1:${p}`),
  fc.constantFrom('localhost:9000', '[::1]:8081', 'backend.internal:80', '10.0.0.1:80', '0.0.0.0:8080', '[::]:8443', 'svc_a.ns.svc.cluster.local:8080'),
);
const TEMPLATE_PARTS = [
  '$client_ip',
  '$client_port',
  '$backend_name',
  '$backend_addr',
  '$nope',
  'abc',
  ' ',
  '\t',
  '\u00e9',
  '\u00ff',
  '"',
  "'",
  ':',
  ',',
  '#',
  '{',
  '[',
];
const headerValue = fc.oneof(
  fc.array(fc.constantFrom(...TEMPLATE_PARTS), { maxLength: 5 }).map((a) => a.join('')),
  fc.integer(),
  fc.boolean(),
);
const headerName = fc.constantFrom('X-A', 'X-Forwarded-For', 'Via', 'X-Request-ID', 'Host', 'x-b', 'Server', 'X_Under', 'X-Backend');
/** Map keys put by mutations: names that are not tokens, framing fields. */
const anyHeaderName = fc.oneof(headerName, fc.constantFrom('Content-Length', 'transfer-encoding', 'Connection', 'X A', 'X:B', '', 'X\u0100', 'X\r\nY'));
const headerMap = fc.dictionary(headerName, headerValue, { maxKeys: 4 });

const healthCheck = fc.record(
  {
    type: fc.constantFrom('tcp', 'http'),
    path: fc.constantFrom('/', '/health', '/a?b=c'),
    expected_status: fc.integer({ min: 100, max: 599 }),
    interval: positiveDuration,
    timeout: positiveDuration,
    unhealthy_threshold: fc.integer({ min: 1, max: 5 }),
    healthy_threshold: fc.integer({ min: 1, max: 5 }),
    cooldown: duration,
  },
  { requiredKeys: [] },
);

const backend = fc.record(
  {
    name,
    servers: fc.uniqueArray(fc.record({ address, weight: fc.integer({ min: 1, max: 1000 }) }, { requiredKeys: ['address'] }), {
      maxLength: 3,
      selector: (s) => s.address,
    }),
    health_check: healthCheck,
    resolve_interval: positiveDuration,
  },
  { requiredKeys: ['name', 'servers'] },
);

const route = fc.record(
  {
    host: fc.constantFrom('api.example.com', '*.example.com', 'EXAMPLE.org'),
    path_prefix: fc.constantFrom('/', '/api/', '/static'),
    methods: fc.constantFrom(['GET'], ['get', 'POST']),
    backend: name,
    algorithm: fc.constantFrom('round_robin', 'weighted', 'least_connections', 'ip_hash'),
  },
  { requiredKeys: ['backend'] },
);

const frontend = fc.record(
  {
    name,
    listen: address,
    protocol: fc.constantFrom('tcp', 'http', 'http'),
    backend: name,
    algorithm: fc.constantFrom('round_robin', 'weighted', 'least_connections', 'ip_hash'),
    max_connections: fc.integer({ min: 1, max: 1000 }),
    tcp: fc.record({ connect_timeout: positiveDuration, idle_timeout: duration }, { requiredKeys: [] }),
    http: fc.record(
      {
        request_headers: headerMap,
        response_headers: headerMap,
        remove_request_headers: fc.array(headerName, { maxLength: 2 }),
        remove_response_headers: fc.array(headerName, { maxLength: 2 }),
        via: fc.boolean(),
        trusted_proxies: fc.array(fc.constantFrom('10.0.0.0/8', '::1/128', '192.168.1.1'), { maxLength: 2 }),
        max_header_size: fc.constantFrom('16KiB', 8192, '1MiB', '64kb'),
        timeouts: fc.record(
          { client_header: positiveDuration, connect: positiveDuration, response: positiveDuration, upstream_idle: positiveDuration },
          { requiredKeys: [] },
        ),
      },
      { requiredKeys: [] },
    ),
    routes: fc.array(route, { maxLength: 2 }),
  },
  { requiredKeys: ['name', 'listen', 'backend'] },
);

const global = fc.record(
  {
    log_level: fc.constantFrom('trace', 'debug', 'info', 'warn', 'error'),
    log_format: fc.constantFrom('json', 'pretty'),
    metrics: fc.record({ enabled: fc.boolean(), address, path: fc.constantFrom('/metrics', '/m') }, { requiredKeys: [] }),
    workers: fc.oneof(fc.constant('auto'), fc.integer({ min: 1, max: 8 })),
    shutdown_delay: duration,
    shutdown_timeout: duration,
    access_log: fc.boolean(),
    resolvers: fc.array(fc.constantFrom('10.0.0.53', '127.0.0.1:5353', '[::1]:53'), { maxLength: 2 }),
  },
  { requiredKeys: [] },
);

/** A configuration that often validates (names collide or miss now and then). */
export const plausibleConfig: fc.Arbitrary<Record<string, unknown>> = fc
  .record(
    {
      global,
      health_check_defaults: healthCheck.map(({ type: _t, path: _p, expected_status: _e, ...rest }) => rest),
      frontends: fc.uniqueArray(frontend, { minLength: 1, maxLength: 3, selector: (f) => f.name }),
      backends: fc.uniqueArray(backend, { minLength: 1, maxLength: 3, selector: (b) => b.name }),
    },
    { requiredKeys: ['frontends', 'backends'] },
  )
  .map((c) => {
    // Mostly consistent: frontends on distinct ports, pointing at declared backends (now and then not).
    const names = c.backends.map((b) => b.name);
    c.frontends.forEach((f, i) => {
      f.listen = f.listen.replace(/:\d+$/, `:${20_000 + i}`);
      if (!names.includes(f.backend) && i !== 2) f.backend = names[i % names.length] as string;
      for (const r of f.routes ?? []) if (!names.includes(r.backend)) r.backend = names[0] as string;
      if (f.protocol !== 'http') delete f.routes;
    });
    return c as Record<string, unknown>;
  });

// ---- arbitrary values -------------------------------------------------------------------

const INTERESTING = [
  '',
  ' ',
  '~',
  'null',
  'auto',
  'http',
  'tcp',
  '5s',
  '0s',
  '-1s',
  '1e400s',
  '127.0.0.1:0',
  '256.1.1.1:80',
  '10.0.0:80',
  '[::1]:80',
  '::1:80',
  ':80',
  'a b:80',
  '\u0100',
  'a\uffffb',
  'a\r\nInjected: 1',
  '\u0000',
  '\u001b[31m',
  '\u007f',
  '\ud800',
  '$backend_addr',
  '__proto__',
  'constructor',
  '16KiB',
  '0',
  '99999999999999999999',
] as const;

const scalar: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...INTERESTING),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.string({ maxLength: 12 }),
  fc.integer(),
  fc.integer({ min: -2, max: 70000 }),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.oneof(fc.nat({ max: 2000 }), fc.nat({ max: 100_000 })).map((n) => 'x'.repeat(n)),
);

/** Any JSON-like value: scalars of every type, lists and mappings of them, a few levels deep. */
export const anyValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { maxDepth: 3, depthIdentifier: 'value' },
    scalar,
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(
      fc.oneof(fc.constantFrom('name', 'listen', 'backend', 'servers', 'address', 'interval', '__proto__', '<<'), fc.string({ maxLength: 6 })),
      tie('value'),
      {
        maxKeys: 3,
      },
    ),
  ),
})).value;

/** A concrete path for a schema path: list items 0-2, map keys from a few header names. */
const concretePath = fc
  .tuple(fc.constantFrom(...PATHS), fc.array(fc.nat({ max: 2 }), { minLength: 8, maxLength: 8 }), fc.array(anyHeaderName, { minLength: 8, maxLength: 8 }))
  .map(([path, indices, keys]) => path.map((s, i) => (s === ITEM ? (indices[i] as number) : s === KEY ? (keys[i] as string) : s)));

function setPath(root: Record<string, unknown>, path: readonly (string | number)[], value: unknown): void {
  if (path.length === 0) return;
  let node: unknown = root;
  for (let i = 0; i < path.length - 1; i++) {
    const seg = path[i] as string | number;
    const next = path[i + 1];
    const container = node as Record<string | number, unknown>;
    let child = container[seg];
    if (child === null || typeof child !== 'object') {
      child = typeof next === 'number' ? [] : {};
      container[seg] = child;
    }
    node = child;
  }
  const last = path[path.length - 1] as string | number;
  if (typeof last === 'string' && last === '__proto__') Object.defineProperty(node, last, { value, enumerable: true, writable: true, configurable: true });
  else (node as Record<string | number, unknown>)[last] = value;
}

// ---- YAML around the values -------------------------------------------------------------

type YamlTwist =
  | { kind: 'anchor-alias'; from: number; to: number }
  | { kind: 'self-alias'; at: number }
  | { kind: 'dangling-alias'; at: number }
  | { kind: 'tag'; at: number; tag: string }
  | { kind: 'deep'; at: number; depth: number };

const TAGS = ['!!str', '!!int', '!!float', '!!bool', '!!null', '!!set', '!!omap', '!!pairs', '!!binary', '!!timestamp', '!!map', '!!seq', '!foo', '!'];

const twist: fc.Arbitrary<YamlTwist> = fc.oneof(
  fc.record({ kind: fc.constant('anchor-alias' as const), from: fc.nat(), to: fc.nat() }),
  fc.record({ kind: fc.constant('self-alias' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('dangling-alias' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('tag' as const), at: fc.nat(), tag: fc.constantFrom(...TAGS) }),
  fc.record({ kind: fc.constant('deep' as const), at: fc.nat(), depth: fc.oneof(fc.integer({ min: 1, max: 70 }), fc.integer({ min: 100, max: 30_000 })) }),
);

type TextTwist = { kind: 'truncate'; at: number } | { kind: 'insert'; at: number; text: string } | { kind: 'repeat-line'; at: number; times: number };

const STRAY = [
  '\u0000',
  '\t',
  '\r',
  '\n',
  ':',
  '- ',
  '[',
  '{',
  ']',
  '"',
  "'",
  '&a ',
  '*a',
  '!',
  '%YAML 1.1\n',
  '---\n',
  '\uFEFF',
  '\u0085',
  '\u2028',
  '? ',
  '#',
  '|',
  '>',
  '  ',
];
const textTwist: fc.Arbitrary<TextTwist> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.constantFrom(...STRAY), fc.string({ unit: 'binary', maxLength: 4 })) }),
  fc.record({ kind: fc.constant('repeat-line' as const), at: fc.nat(), times: fc.integer({ min: 2, max: 50 }) }),
);

/** The document's nodes in order (collections and scalars), for twists to pick from. */
function nodesOf(doc: Document): Node[] {
  const out: Node[] = [];
  const walk = (n: unknown): void => {
    if (!isNode(n)) return;
    out.push(n);
    if (isCollection(n)) {
      for (const item of n.items as unknown[]) {
        if (item !== null && typeof item === 'object' && 'value' in item && 'key' in item) walk((item as { value: unknown }).value);
        else walk(item);
      }
    }
  };
  walk(doc.contents);
  return out;
}

function replaceNode(doc: Document, target: Node, by: Node): void {
  const walk = (n: unknown): boolean => {
    if (!isCollection(n)) return false;
    const items = n.items as unknown[];
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      if (item === target) {
        items[i] = by;
        return true;
      }
      if (item !== null && typeof item === 'object' && 'key' in item && 'value' in item) {
        const pair = item as { value: unknown };
        if (pair.value === target) {
          pair.value = by;
          return true;
        }
        if (walk(pair.value)) return true;
      } else if (walk(item)) return true;
    }
    return false;
  };
  walk(doc.contents);
}

function applyTwist(doc: Document, t: YamlTwist, serial: number): void {
  const nodes = nodesOf(doc);
  if (nodes.length === 0) return;
  const pick = (i: number) => nodes[i % nodes.length] as Node;
  switch (t.kind) {
    case 'anchor-alias': {
      const from = pick(t.from);
      const to = pick(t.to);
      if (from === to || from === doc.contents) return;
      const anchor = from.anchor ?? `a${serial}`;
      from.anchor = anchor;
      replaceNode(doc, to, new Alias(anchor));
      return;
    }
    case 'self-alias': {
      const at = pick(t.at);
      at.anchor = `s${serial}`;
      if (isMap(at)) at.items.push(doc.createPair('loop', new Alias(`s${serial}`)));
      else if (isSeq(at)) at.items.push(new Alias(`s${serial}`));
      return;
    }
    case 'dangling-alias': {
      const at = pick(t.at);
      if (at !== doc.contents) replaceNode(doc, at, new Alias(`nowhere${serial}`));
      return;
    }
    case 'tag': {
      const at = pick(t.at);
      if (!isAlias(at)) at.tag = t.tag;
      return;
    }
    case 'deep': {
      const at = pick(t.at);
      // Written as flow text after stringifying (the yaml library's stringify recurses too).
      if (at !== doc.contents) replaceNode(doc, at, doc.createNode(`__deep_${t.depth}__`));
      return;
    }
  }
}

function applyTextTwist(text: string, t: TextTwist): string {
  const at = text.length === 0 ? 0 : t.at % (text.length + 1);
  switch (t.kind) {
    case 'truncate':
      return text.slice(0, at);
    case 'insert':
      return text.slice(0, at) + t.text + text.slice(at);
    case 'repeat-line': {
      const lines = text.split('\n');
      const i = lines.length === 0 ? 0 : t.at % lines.length;
      lines.splice(i, 0, ...Array<string>(t.times - 1).fill(lines[i] ?? ''));
      return lines.join('\n');
    }
  }
}

/** A value for a report: long strings cut. */
function shorten(v: unknown): unknown {
  if (typeof v === 'string') return v.length > 40 ? `${v.slice(0, 40)}…(${v.length})` : v;
  if (Array.isArray(v)) return v.map(shorten);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [shorten(k), shorten(x)]));
  return v;
}

export interface ConfigCase {
  readonly text: string;
  /** How the text was made, for a failing case's report. */
  readonly story: string;
}

const style = fc.constantFrom('block', 'flow', 'json');

/**
 * A configuration file: a plausible configuration with 0-3 arbitrary values put at
 * schema positions, written as YAML in some style, then 0-3 YAML twists (anchors,
 * aliases, tags, deep nesting) and 0-2 text twists (truncation, stray bytes, repeats).
 */
export const configFile: fc.Arbitrary<ConfigCase> = fc
  .record({
    base: plausibleConfig,
    mutations: fc.oneof(
      { weight: 3, arbitrary: fc.constant([] as [(string | number)[], unknown][]) },
      { weight: 3, arbitrary: fc.array(fc.tuple(concretePath, anyValue), { minLength: 1, maxLength: 3 }) },
    ),
    style,
    twists: fc.oneof({ weight: 3, arbitrary: fc.constant([] as YamlTwist[]) }, { weight: 2, arbitrary: fc.array(twist, { minLength: 1, maxLength: 3 }) }),
    textTwists: fc.oneof(
      { weight: 4, arbitrary: fc.constant([] as TextTwist[]) },
      { weight: 1, arbitrary: fc.array(textTwist, { minLength: 1, maxLength: 2 }) },
    ),
  })
  .map(({ base, mutations, style, twists, textTwists }) => {
    const config = structuredClone(base);
    for (const [path, value] of mutations) {
      if (path.length === 0) continue;
      setPath(config, path, value);
    }
    let text: string;
    if (style === 'json') text = JSON.stringify(config, null, 1);
    else {
      const doc = new Document(config);
      twists.forEach((t, i) => {
        applyTwist(doc, t, i);
      });
      try {
        text = doc.toString({ collectionStyle: style === 'flow' ? 'flow' : 'any', lineWidth: 0, verifyAliasOrder: false });
      } catch {
        text = stringify(config);
      }
      text = text.replace(/"?__deep_(\d+)__"?/g, (_, n: string) => `${'['.repeat(Number(n))}x${']'.repeat(Number(n))}`);
    }
    for (const t of textTwists) text = applyTextTwist(text, t);
    const story = JSON.stringify({ mutations: mutations.map(([p, v]) => [p, shorten(v)]), style, twists, textTwists });
    const shown = JSON.stringify(text.length > 600 ? `${text.slice(0, 600)}…(${text.length} characters)` : text);
    return { text, story, [fc.toStringMethod]: () => `${shown}\n${story.length > 2000 ? `${story.slice(0, 2000)}…` : story}` };
  });

/** Longest a validation may take (issue 19: no input takes more than a second). */
export const VALIDATION_BUDGET_MS = 1000;

/**
 * The property: validation never throws and answers either a configuration or at least
 * one problem, each located by a line and written on one line, none an internal error.
 * Returns the result and how long it took.
 */
export function checkValidation(c: ConfigCase): { result: ValidationResult; ms: number } {
  const started = performance.now();
  const story = String((c as { [fc.toStringMethod]?: () => string })[fc.toStringMethod]?.() ?? c.story);
  let result: ValidationResult;
  try {
    result = validateConfigText(c.text, 'fuzz.yaml');
  } catch (err) {
    assert.fail(`validation threw ${String(err)}\n${story}`);
  }
  const ms = performance.now() - started;
  if (!result.ok) {
    assert.ok(result.errors.length > 0, `refused without a problem\n${story}`);
    for (const e of result.errors) {
      const line = formatProblem(e);
      assert.ok(e.line !== null && e.line >= 1, `a problem without a line: ${line}\n${story}`);
      assert.doesNotMatch(line, /[\n\r]/, `a problem over several lines: ${line}\n${story}`);
      assert.doesNotMatch(e.message, /internal error/, `${line}\n${story}`);
      assert.ok(line.length < 2000, `a problem ${line.length} characters long\n${story}`);
    }
  } else {
    assert.ok(Object.isFrozen(result.config) && Object.isFrozen(result.config.frontends), 'the configuration is frozen');
    // Plain data: it crosses the IPC channel as JSON unchanged.
    assert.deepEqual(JSON.parse(JSON.stringify(result.config)), result.config, `the configuration is not plain JSON data\n${story}`);
  }
  return { result, ms };
}
