#!/usr/bin/env node
// Generates the reference part of docs/configuration.md from the one JSON Schema
// (packages/config/schema/rustlb.schema.json): every key with its type, default,
// description and an example, the value types, and a complete example file that uses
// every key. Only the block between the two markers is rewritten; the prose around it
// is hand-written.
//
//   node scripts/gen-config-docs.mjs           rewrite docs/configuration.md
//   node scripts/gen-config-docs.mjs --check   exit 1 if it is stale (test/docs.test.ts runs this)
//   node scripts/gen-config-docs.mjs --complete-example   print the complete example YAML
//
// A key with neither a default nor an entry in EXAMPLES below gets a value made up from
// its type; test/docs.test.ts validates the complete example with `rustlb --validate`,
// so a made-up value that is not valid shows up there (then add the key to EXAMPLES).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';

const root = join(import.meta.dirname, '..');
const SCHEMA_FILE = join(root, 'packages/config/schema/rustlb.schema.json');
const DOC_FILE = join(root, 'docs/configuration.md');
const BEGIN =
  '<!-- BEGIN GENERATED REFERENCE: scripts/gen-config-docs.mjs from packages/config/schema/rustlb.schema.json; edit the schema, then run `npm run docs:config` -->';
const END = '<!-- END GENERATED REFERENCE -->';

/** Example values, where the default is not a good illustration or there is none. */
const EXAMPLES = {
  'global.metrics.address': '0.0.0.0:9090',
  'global.workers': 4,
  'global.shutdown_delay': '10s',
  'global.admin.socket': '/run/rustlb/rustlb.sock',
  'global.admin.status': true,
  'global.admin.token': 'a-long-random-secret-from-a-vault',
  'global.resolvers': ['10.96.0.10', '10.96.0.11:53'],
  'frontends[].name': 'web',
  'frontends[].listen': '0.0.0.0:8080',
  'frontends[].protocol': 'http',
  'frontends[].backend': 'web',
  'frontends[].algorithm': 'least_connections',
  'frontends[].max_connections': 10000,
  'frontends[].tcp.connect_timeout': '5s',
  'frontends[].http.request_headers': { 'X-Real-IP': '$client_ip' },
  'frontends[].http.response_headers': { 'X-Served-By': '$backend_name ($backend_addr)' },
  'frontends[].http.remove_request_headers': ['X-Debug-Token'],
  'frontends[].http.remove_response_headers': ['Server', 'X-Powered-By'],
  'frontends[].http.trusted_proxies': ['10.0.0.0/8', 'fd00::/8'],
  'frontends[].routes[].host': '*.api.example.com',
  'frontends[].routes[].path_prefix': '/v1/',
  'frontends[].routes[].methods': ['GET', 'HEAD'],
  'frontends[].routes[].backend': 'api',
  'frontends[].routes[].algorithm': 'ip_hash',
  'backends[].name': 'web',
  'backends[].servers[].address': '10.0.1.10:8000',
  'backends[].servers[].weight': 3,
  'backends[].health_check.type': 'http',
  'backends[].health_check.path': '/healthz',
  'backends[].health_check.interval': '5s',
  'backends[].health_check.timeout': '2s',
  'backends[].health_check.unhealthy_threshold': 3,
  'backends[].health_check.healthy_threshold': 2,
  'backends[].health_check.cooldown': '30s',
  'backends[].resolve_interval': '10s',
  'frontends[].tls.certificates[].cert': 'tls/www.example.com.crt',
  'frontends[].tls.certificates[].key': 'tls/www.example.com.key',
  'frontends[].tls.ciphers': 'ECDHE+AESGCM:ECDHE+CHACHA20',
  'frontends[].tls.alpn': ['http/1.1'],
  'backends[].tls.ca': 'tls/internal-ca.crt',
  'backends[].tls.servername': 'web.internal.example.com',
  'backends[].tls.cert': 'tls/rustlb-client.crt',
  'backends[].tls.key': 'tls/rustlb-client.key',
  'backends[].send_proxy': 'v2',
};

/** How a `format` reads in the type column. */
const FORMATS = {
  duration: 'duration',
  'positive-duration': 'duration > 0',
  size: 'size',
  'host-port': 'host:port',
  'header-value': 'header value',
  resolver: 'IP or IP:port',
  cidr: 'IP or CIDR',
};

/** How a named definition reads in the type column, when its shape does not say it well. */
const DEFINITIONS = {
  name: 'name',
  positiveInteger: 'integer ≥ 1',
  timeout: 'timeout > 0',
  file: 'file path',
  headerName: 'header name',
  headerMap: 'map: header name → header value',
};

const schema = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8'));

function deref(node) {
  if (node?.$ref === undefined) return { node, ref: null };
  const name = node.$ref.replace('#/definitions/', '');
  const def = schema.definitions[name];
  if (def === undefined) throw new Error(`unknown $ref ${node.$ref}`);
  // Local keywords (description, default) win over the definition's.
  const { $ref: _, ...local } = node;
  return { node: { ...def, ...local }, ref: name };
}

const code = (v) => `\`${typeof v === 'string' ? v : JSON.stringify(v)}\``;

function typeOf(raw) {
  const { node, ref } = deref(raw);
  if (ref !== null && DEFINITIONS[ref] !== undefined) return DEFINITIONS[ref];
  if (node.enum !== undefined) return `one of ${node.enum.map(code).join(', ')}`;
  if (node.const !== undefined) return code(node.const);
  if (node.anyOf !== undefined) return node.anyOf.map(typeOf).join(' or ');
  if (node.format !== undefined) return FORMATS[node.format] ?? node.format;
  const t = Array.isArray(node.type) ? node.type.join(' or ') : node.type;
  if (t === 'array') return `list of ${typeOf(node.items)}`;
  if (t === 'integer' && node.minimum !== undefined && node.maximum !== undefined) return `integer ${node.minimum}–${node.maximum}`;
  if (t === 'integer' && node.minimum !== undefined) return `integer ≥ ${node.minimum}`;
  if (t === 'object') return 'object';
  return t ?? 'any';
}

/** The object (or array-of-object item) a property describes, if any. */
function objectOf(raw) {
  const { node } = deref(raw);
  if (node.type === 'object' && node.properties !== undefined) return { node, array: false };
  if (node.type === 'array') {
    const item = deref(node.items).node;
    if (item.type === 'object' && item.properties !== undefined) return { node: item, array: true };
  }
  return null;
}

function fallbackValue(raw) {
  const { node } = deref(raw);
  if (node.enum !== undefined) return node.enum[0];
  if (node.const !== undefined) return node.const;
  if (node.anyOf !== undefined) return fallbackValue(node.anyOf[0]);
  const t = Array.isArray(node.type) ? node.type[0] : node.type;
  if (node.format === 'duration' || node.format === 'positive-duration') return '5s';
  if (node.format === 'host-port') return '127.0.0.1:8080';
  if (t === 'integer' || t === 'number') return node.minimum ?? 1;
  if (t === 'boolean') return true;
  if (t === 'array') return [fallbackValue(node.items)];
  if (t === 'object') return {};
  return 'example';
}

function exampleValue(path, raw) {
  if (Object.hasOwn(EXAMPLES, path)) return EXAMPLES[path];
  const { node } = deref(raw);
  if (node.examples !== undefined) return node.examples[0];
  if (node.default !== undefined) return node.default;
  return fallbackValue(raw);
}

/**
 * Walks the schema: one section per object (the root's direct objects, nested objects,
 * and items of arrays of objects), each with its scalar keys.
 */
function sections() {
  const out = [];
  const visit = (path, node, array) => {
    const section = { path, array, description: node.description ?? '', keys: [], children: [] };
    out.push(section);
    const required = new Set(node.required ?? []);
    for (const [name, raw] of Object.entries(node.properties)) {
      const full = `${path}${path === '' ? '' : '.'}${name}`;
      const { node: prop } = deref(raw);
      const obj = objectOf(raw);
      if (obj !== null) {
        const childPath = obj.array ? `${full}[]` : full;
        section.keys.push({
          name,
          path: full,
          child: childPath,
          type: obj.array ? 'list of objects' : 'object',
          required: required.has(name),
          description: prop.description ?? '',
        });
        section.children.push({ name, childPath, array: obj.array });
        visit(childPath, { ...obj.node, description: prop.description ?? obj.node.description }, obj.array);
      } else {
        section.keys.push({
          name,
          path: full,
          raw,
          type: typeOf(raw),
          required: required.has(name),
          default: prop.default,
          description: prop.description ?? '',
          example: exampleValue(full, raw),
        });
      }
    }
  };
  visit('', schema, false);
  return out;
}

const slug = (heading) =>
  heading
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, '')
    .replace(/ /g, '-');

const cell = (s) => String(s).replace(/\|/g, '\\|').replace(/\n/g, ' ');

function defaultCell(key) {
  if (key.required) return 'required';
  if (key.default === undefined) return '—';
  return code(key.default);
}

/** Puts `value` at `path` (`a.b[].c`) inside `target`, creating the objects and one-item arrays on the way. */
function put(target, path, value) {
  const parts = path.split('.');
  let node = target;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    const last = i === parts.length - 1;
    if (part.endsWith('[]')) {
      const name = part.slice(0, -2);
      node[name] ??= [{}];
      if (last) throw new Error(`cannot put a value at list ${path}`);
      node = node[name][0];
    } else if (last) {
      node[part] = value;
    } else {
      node[part] ??= {};
      node = node[part];
    }
  }
}

function sectionExample(section) {
  const example = {};
  for (const key of section.keys) if (key.child === undefined) put(example, key.path, key.example);
  return stringify(example, { lineWidth: 0 }).trimEnd();
}

/** Every key at once: the file test/docs.test.ts validates with `rustlb --validate`. */
function completeExample() {
  const doc = {};
  for (const section of sections()) for (const key of section.keys) if (key.child === undefined) put(doc, key.path, key.example);
  // One frontend of each protocol (tcp settings on an http frontend are ignored, with a
  // warning), and the backends the routes and the tcp frontend name.
  const [fe] = doc.frontends;
  const { tcp, ...http } = fe;
  doc.frontends = [http, { name: 'db', listen: '0.0.0.0:5432', protocol: 'tcp', backend: 'db', tcp }];
  const [be] = doc.backends;
  be.servers.push({ address: 'web.default.svc.cluster.local:8000' });
  doc.backends = [
    be,
    { name: 'api', servers: [{ address: '10.0.2.10:3000' }, { address: '10.0.2.11:3000' }], health_check: { type: 'http', path: '/health' } },
    { name: 'db', servers: [{ address: '10.0.3.10:5432' }, { address: '10.0.3.11:5432' }] },
  ];
  return stringify(doc, { lineWidth: 0 });
}

function valueTypes() {
  const rows = [];
  for (const [name, def] of Object.entries(schema.definitions)) {
    if (def.errorHint === undefined) continue;
    rows.push(`| ${cell(typeOf({ $ref: `#/definitions/${name}` }))} | ${cell(def.errorHint.replace(/^must be /, ''))} |`);
  }
  return ['| type | a valid value is |', '|---|---|', ...rows].join('\n');
}

function generate() {
  const out = [BEGIN, '', '## Reference', ''];
  out.push(`${schema.description}`, '');
  out.push('### Value types', '', valueTypes(), '');
  for (const section of sections()) {
    const heading = section.path === '' ? 'Top level' : `\`${section.path}\``;
    out.push(`### ${heading}`, '');
    if (section.description !== '') out.push(section.description, '');
    if (section.array) out.push('A list; each item has these keys.', '');
    out.push('| key | type | default | description |', '|---|---|---|---|');
    for (const key of section.keys) {
      const description = key.child === undefined ? key.description : `${key.description} See [\`${key.child}\`](#${slug(`\`${key.child}\``)}).`.trim();
      out.push(`| \`${key.path}\` | ${cell(key.type)} | ${cell(defaultCell(key))} | ${cell(description)} |`);
    }
    out.push('');
    const example = sectionExample(section);
    if (example !== '{}') out.push('Example (a fragment):', '', '```yaml', example, '```', '');
  }
  out.push('### A complete file', '', 'Every key above at once (it passes `rustlb --validate`):', '', '```yaml', completeExample().trimEnd(), '```', '', END);
  return out.join('\n');
}

function splice(doc, block) {
  const begin = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  if (begin < 0 || end < begin) throw new Error(`${DOC_FILE} has no generated block (${BEGIN} ... ${END})`);
  return doc.slice(0, begin) + block + doc.slice(end + END.length);
}

function main(argv) {
  if (argv.includes('--complete-example')) {
    process.stdout.write(completeExample());
    return 0;
  }
  const current = readFileSync(DOC_FILE, 'utf8');
  const next = splice(current, generate());
  if (argv.includes('--check')) {
    if (next === current) return 0;
    process.stderr.write('docs/configuration.md is stale: the schema changed. Run `npm run docs:config` and commit the result.\n');
    return 1;
  }
  if (next !== current) writeFileSync(DOC_FILE, next);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
