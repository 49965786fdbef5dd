// The docs cannot drift from the code: the configuration reference is regenerated from
// the JSON Schema and compared; every error code, metric and rustlb-ctl command is
// documented (and nothing stale is); every YAML example parses and every complete
// configuration (frontends and backends) in the docs passes `rustlb --validate`; metric types and labels match a
// live scrape; relative links and anchors resolve.
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CONTROL_COMMANDS, ERROR_CODES } from '@rustlb/core';
import {
  backend,
  freePort,
  frontend,
  get,
  type HttpUpstream,
  httpCheck,
  lbConfig,
  ROOT,
  RustlbProcess,
  runRustlb,
  startHttpUpstream,
  TestPki,
} from '@rustlb/testkit';
import { parse } from 'yaml';
import { run } from './pack-helper.js';

const tmp = mkdtempSync(join(tmpdir(), 'rustlb-docs-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

// The certificate files the docs' TLS examples name (relative to the config file): made
// once, valid, keys readable by their owner only, so the examples validate without warnings.
const TLS_FILES: Readonly<Record<string, readonly string[] | 'client'>> = {
  'www.example.com': ['www.example.com', 'example.com'],
  'api.example.com': ['api.example.com'],
  'wildcard.example.com': ['*.example.com'],
  tls: ['shop.example.com'],
  'rustlb-client': 'client',
};
before(async () => {
  const pki = await TestPki.create(join(tmp, 'pki'));
  const dir = join(tmp, 'tls');
  mkdirSync(dir, { recursive: true });
  for (const [stem, names] of Object.entries(TLS_FILES)) {
    const made = names === 'client' ? await pki.client() : await pki.server({ dns: names });
    copyFileSync(made.cert, join(dir, `${stem}.crt`));
    copyFileSync(made.key, join(dir, `${stem}.key`));
    chmodSync(join(dir, `${stem}.key`), 0o600);
  }
  for (const ca of ['internal-ca.crt', 'ca.crt']) copyFileSync(pki.ca.cert, join(dir, ca));
});

const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');
const docFiles = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

async function validate(text: string, name: string): Promise<void> {
  const file = join(tmp, name);
  writeFileSync(file, text);
  const r = await runRustlb(['--validate', '--config', file]);
  assert.equal(r.code, 0, `${name} is valid:\n${text}\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /warning/, `${name} validates without warnings`);
}

/** Fenced code blocks of a language in a Markdown text. */
function blocks(markdown: string, lang: string): string[] {
  return [...markdown.matchAll(new RegExp(`^\`\`\`${lang}\\n([\\s\\S]*?)^\`\`\`$`, 'gm'))].map((m) => m[1] as string);
}

/** Rows of the Markdown tables whose first cell is a code span starting with `prefix`. */
function tableRows(markdown: string, prefix: string): string[][] {
  return markdown
    .split('\n')
    .filter((l) => l.startsWith(`| \`${prefix}`))
    .map((l) =>
      l
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((c) => c.trim()),
    );
}

describe('docs/configuration.md', () => {
  const doc = read('docs/configuration.md');

  test('the generated reference is up to date with the schema (npm run docs:config)', async () => {
    const r = await run(process.execPath, [join(ROOT, 'scripts/gen-config-docs.mjs'), '--check']);
    assert.equal(r.code, 0, r.stderr);
  });

  test('every key of the schema is in the reference, with its default', () => {
    const schema = JSON.parse(read('packages/config/schema/rustlb.schema.json')) as Record<string, unknown>;
    const definitions = schema.definitions as Record<string, Record<string, unknown>>;
    const deref = (n: Record<string, unknown>) => (typeof n.$ref === 'string' ? { ...definitions[n.$ref.replace('#/definitions/', '')], ...n } : n);
    const keys: { path: string; default: unknown }[] = [];
    const walk = (node: Record<string, unknown>, path: string) => {
      for (const [name, raw] of Object.entries((node.properties ?? {}) as Record<string, Record<string, unknown>>)) {
        const p = deref(raw);
        const full = path === '' ? name : `${path}.${name}`;
        keys.push({ path: full, default: p.default });
        if (p.properties !== undefined) walk(p, full);
        const items = p.items === undefined ? undefined : deref(p.items as Record<string, unknown>);
        if (items?.properties !== undefined) walk(items, `${full}[]`);
      }
    };
    walk(schema, '');
    assert.ok(keys.length > 50, `${keys.length} keys`);
    for (const k of keys) {
      const row = tableRows(doc, k.path).find((r) => r[0] === `\`${k.path}\``);
      assert.ok(row !== undefined, `${k.path} has a row`);
      if (k.default !== undefined && typeof k.default !== 'object') assert.equal(row[2], `\`${String(k.default)}\``, `${k.path} default`);
    }
  });

  test('the complete example uses every key and passes rustlb --validate without warnings', async () => {
    const r = await run(process.execPath, [join(ROOT, 'scripts/gen-config-docs.mjs'), '--complete-example']);
    assert.equal(r.code, 0, r.stderr);
    await validate(r.stdout, 'complete.yaml');
    assert.ok(doc.includes(r.stdout.trimEnd()), 'the complete example is in the doc');
  });
});

describe('examples in the docs', () => {
  test('every YAML block parses; every complete configuration passes rustlb --validate without warnings', async () => {
    let configs = 0;
    for (const file of docFiles) {
      for (const [i, text] of blocks(read(file), 'yaml').entries()) {
        let value: unknown;
        assert.doesNotThrow(
          () => {
            value = parse(text);
          },
          `${file} YAML block ${i + 1} parses`,
        );
        if (typeof value === 'object' && value !== null && 'frontends' in value && 'backends' in value) {
          configs++;
          await validate(text, `${file.replace(/\W/g, '_')}-${i + 1}.yaml`);
        }
      }
    }
    assert.ok(configs >= 8, `${configs} complete configurations checked`);
  });
});

describe('docs/errors.md', () => {
  const doc = read('docs/errors.md');
  const rows = tableRows(doc, 'RLB_ERR_');

  test('every error code is documented once, with its HTTP status; no stale code', () => {
    const documented = rows.map((r) => (r[0] as string).replace(/`/g, ''));
    assert.deepEqual([...documented].sort(), Object.keys(ERROR_CODES).sort());
    const mentioned = new Set(doc.match(/RLB_ERR_[A-Z_]+/g));
    for (const code of mentioned) assert.ok(code in ERROR_CODES, `${code} is not a code in packages/core/src/errors.ts`);
    for (const r of rows) {
      const code = (r[0] as string).replace(/`/g, '') as keyof typeof ERROR_CODES;
      const status = ERROR_CODES[code].status;
      if (status !== null) assert.equal(r[1], String(status), `${code} status`);
    }
  });
});

describe('docs/metrics.md', () => {
  const doc = read('docs/metrics.md');
  const rows = tableRows(doc, 'rustlb_');
  const source = read('packages/telemetry/src/names.ts');
  const names = [...source.matchAll(/'(rustlb_[a-z_]+)'/g)].map((m) => m[1] as string);
  let lb: RustlbProcess;
  let upstream: HttpUpstream;
  let port: number;

  before(async () => {
    upstream = await startHttpUpstream('metrics-doc');
    port = await freePort();
    lb = await RustlbProcess.start({
      config: lbConfig({
        frontends: [frontend('web', port, 'app')],
        backends: [backend('app', [upstream.address], { health_check: httpCheck({ interval: '200ms', timeout: '100ms' }) })],
      }),
    });
  });

  after(async () => {
    await lb?.dispose();
    await upstream?.close();
  });

  test('every metric of packages/telemetry/src/names.ts is documented; no stale one', () => {
    assert.ok(names.length >= 15);
    const documented = rows.map((r) => (r[0] as string).replace(/`/g, ''));
    assert.deepEqual([...documented].sort(), [...names].sort());
    for (const m of new Set(doc.match(/\brustlb_[a-z_]+/g))) {
      const base = m.replace(/_(bucket|sum|count)$/, '');
      assert.ok(names.includes(base), `${m} in docs/metrics.md is not a metric`);
    }
    assert.match(doc, /`GET` `HEAD` `POST` `PUT` `DELETE` `CONNECT` `OPTIONS` `TRACE` `PATCH`, else `OTHER`/);
  });

  test('types and labels in the table are what a running rustlb serves', async () => {
    assert.equal((await get(port)).status, 200);
    // Wait for a health check to have run, so its series exist.
    let text = '';
    for (let i = 0; i < 50 && !text.includes('rustlb_health_checks_total{'); i++) {
      text = await lb.metrics();
      await new Promise((r) => setTimeout(r, 100));
    }
    const types = new Map<string, string>();
    for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) types.set(m[1] as string, m[2] as string);
    const labels = new Map<string, Set<string>>();
    for (const m of text.matchAll(/^([a-z_]+?)(?:_bucket|_sum|_count)?\{([^}]*)\} /gm)) {
      const name = types.has(m[1] as string) ? (m[1] as string) : (m[1] as string).replace(/_(bucket|sum|count)$/, '');
      const set = labels.get(name) ?? new Set<string>();
      for (const l of (m[2] as string).matchAll(/([a-z_]+)="/g)) if (l[1] !== 'le') set.add(l[1] as string);
      labels.set(name, set);
    }
    let checked = 0;
    for (const r of rows) {
      const name = (r[0] as string).replace(/`/g, '');
      const served = types.get(name);
      if (served === undefined) continue;
      checked++;
      assert.equal(r[1], served, `${name} type`);
      const documented = r[2] === '—' ? [] : (r[2] as string).split(',').map((s) => s.trim().replace(/`/g, ''));
      if (labels.has(name)) assert.deepEqual([...(labels.get(name) as Set<string>)].sort(), documented.sort(), `${name} labels`);
      else assert.deepEqual(documented, [], `${name} has no labels`);
    }
    assert.ok(checked >= 13, `${checked} metrics compared with a live scrape`);
  });
});

describe('docs/operations.md', () => {
  const doc = read('docs/operations.md');

  test('every rustlb-ctl command, exit code and signal is documented', () => {
    for (const cmd of [...CONTROL_COMMANDS, 'validate']) assert.ok(doc.includes(`\`rustlb-ctl ${cmd}`), `rustlb-ctl ${cmd}`);
    for (const exit of ['**0**', '**1**', '**2**', '**3**']) assert.ok(doc.includes(exit), `exit code ${exit}`);
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) assert.ok(doc.includes(`\`${signal}\``), signal);
    for (const path of ['/livez', '/healthz', '/readyz', '?verbose']) assert.ok(doc.includes(path), path);
  });
});

describe('links', () => {
  const slug = (heading: string) =>
    heading
      .trim()
      .toLowerCase()
      .replace(/[^a-z0-9 _-]/g, '')
      .replace(/ /g, '-');
  const anchors = (file: string) => new Set([...read(file).matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1] as string)));

  test('every relative link in README.md and docs/ points to a file (and heading) that exists', () => {
    let count = 0;
    for (const file of docFiles) {
      const text = read(file).replace(/^```[\s\S]*?^```$/gm, '');
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1] as string;
        if (/^[a-z]+:/.test(target)) continue;
        count++;
        const [path, anchor] = target.split('#') as [string, string | undefined];
        const abs = path === '' ? join(ROOT, file) : resolve(dirname(join(ROOT, file)), path);
        assert.ok(existsSync(abs), `${file}: ${target} exists`);
        if (anchor !== undefined && statSync(abs).isFile()) {
          const rel = abs.slice(ROOT.length).replace(/^\//, '');
          assert.ok(anchors(rel).has(anchor), `${file}: #${anchor} is a heading of ${rel}`);
        }
      }
    }
    assert.ok(count > 10);
  });
});

describe('docs/architecture.md and docs/operations.md', () => {
  test('the IPC tables list exactly the message kinds of packages/core/src/ipc, each with its file', () => {
    const dir = join(ROOT, 'packages/core/src/ipc');
    const inCode = new Map<string, string>();
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      for (const m of readFileSync(join(dir, file), 'utf8').matchAll(/readonly kind: '([a-z-]+)'/g)) inCode.set(m[1] as string, file);
    }
    const section = read('docs/architecture.md').split('## IPC')[1]?.split('\n## ')[0] ?? '';
    const inDoc = new Map(
      section
        .split('\n')
        .filter((l) => /^\| `[a-z-]+` \|/.test(l))
        .map((l) => l.split('|').map((c) => c.trim().replaceAll('`', '')))
        .map((cells) => [cells[1] as string, cells[2] as string]),
    );
    assert.ok(inCode.size >= 10, 'the IPC kinds were found in the code');
    assert.deepEqual([...inDoc.entries()].sort(), [...inCode.entries()].sort());
  });

  test('operations.md covers signals, rustlb-ctl, reload, drain, Kubernetes, systemd, Docker and upgrading', () => {
    const headings = read('docs/operations.md')
      .split('\n')
      .filter((l) => l.startsWith('## '))
      .map((l) => l.slice(3));
    for (const h of [
      'Signals',
      'rustlb-ctl',
      'Reloading the configuration',
      'Draining and disabling servers',
      'Shutdown',
      'Kubernetes',
      'systemd',
      'Docker',
      'Upgrading',
    ]) {
      assert.ok(headings.includes(h), `operations.md has no "## ${h}" section`);
    }
  });
});
