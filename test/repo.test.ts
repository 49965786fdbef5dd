import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, test } from 'node:test';
import { ROOT } from '@rustlb/testkit';
import ts from 'typescript';

/**
 * Which @rustlb packages each package may import: the table of docs/architecture.md, and
 * the "May import" / "Must never import" lines of every packages/<name>/README.md.
 */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  core: [],
  config: ['core'],
  balancer: ['core'],
  health: ['core'],
  http1: ['core'],
  telemetry: ['core'],
  proxy: ['core', 'http1', 'balancer', 'telemetry'],
  worker: ['core', 'balancer', 'proxy', 'telemetry'],
  supervisor: ['core', 'config', 'health', 'telemetry'],
  rustlb: ['core', 'config', 'supervisor', 'worker'],
  ctl: ['core', 'config'],
  testkit: ['core'],
};

/**
 * Imports the table does not allow yet, each waiting on a change elsewhere. A test below
 * fails when one is no longer used, so this list can only shrink.
 */
const PENDING_EXCEPTIONS: readonly string[] = [];

const CLUSTER_USERS = new Set(['rustlb', 'supervisor']);
const SKIP = new Set(['node_modules', 'dist', '.git', 'coverage']);

function walk(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path, out);
    else if (/\.(c|m)?(t|j)s$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

const PACKAGES = readdirSync(join(ROOT, 'packages'), { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

/** Every module specifier a file imports or re-exports, static, type-only or dynamic. */
function specifiers(file: string): string[] {
  return ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles.map((f) => f.fileName);
}

function sourceFiles(pkg: string): string[] {
  return walk(join(ROOT, 'packages', pkg, 'src'));
}

/** `pkg -> dep` for every @rustlb import in the package's sources. */
function internalImports(pkg: string): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const file of sourceFiles(pkg)) {
    for (const s of specifiers(file)) {
      const m = /^@rustlb\/([^/]+)/.exec(s);
      if (m === null || m[1] === pkg) continue;
      const edge = `${pkg} -> ${m[1]}`;
      found.set(edge, [...(found.get(edge) ?? []), relative(ROOT, file)]);
    }
  }
  return found;
}

function manifest(path: string): { name: string; version: string; dependencies?: Record<string, string> } {
  return JSON.parse(readFileSync(path, 'utf8'));
}

describe('one version', () => {
  test('every package carries the root version, and pins its @rustlb dependencies to it', () => {
    const { version } = manifest(join(ROOT, 'package.json'));
    const wrong: string[] = [];
    for (const pkg of PACKAGES) {
      const m = manifest(join(ROOT, 'packages', pkg, 'package.json'));
      if (m.version !== version) wrong.push(`${m.name} is ${m.version}`);
      for (const [dep, range] of Object.entries(m.dependencies ?? {})) {
        if (dep.startsWith('@rustlb/') && range !== version) wrong.push(`${m.name} depends on ${dep}@${range}`);
      }
    }
    assert.deepEqual(wrong, [], `root version is ${version}`);
  });
});

describe('dependencies point one way', () => {
  test('every package is in the table', () => {
    assert.deepEqual(PACKAGES, Object.keys(ALLOWED).sort());
  });

  test('packages import only the @rustlb packages the table allows', () => {
    const forbidden: string[] = [];
    for (const pkg of PACKAGES) {
      for (const [edge, files] of internalImports(pkg)) {
        const dep = edge.split(' -> ')[1] as string;
        if (!(ALLOWED[pkg] ?? []).includes(dep) && !PENDING_EXCEPTIONS.includes(edge)) forbidden.push(`${edge} (${files.join(', ')})`);
      }
    }
    assert.deepEqual(forbidden, []);
  });

  test('each pending exception is still real (remove it once fixed)', () => {
    const edges = new Set(PACKAGES.flatMap((pkg) => [...internalImports(pkg).keys()]));
    assert.deepEqual(
      PENDING_EXCEPTIONS.filter((e) => !edges.has(e)),
      [],
    );
  });

  test('every @rustlb import is declared in the package.json and as a project reference', () => {
    const missing: string[] = [];
    for (const pkg of PACKAGES) {
      const deps = Object.keys(manifest(join(ROOT, 'packages', pkg, 'package.json')).dependencies ?? {});
      const tsconfig = JSON.parse(readFileSync(join(ROOT, 'packages', pkg, 'tsconfig.json'), 'utf8')) as { references?: { path: string }[] };
      const refs = (tsconfig.references ?? []).map((r) => r.path.replace(/^\.\.\//, ''));
      for (const edge of internalImports(pkg).keys()) {
        const dep = edge.split(' -> ')[1] as string;
        if (!deps.includes(`@rustlb/${dep}`)) missing.push(`${pkg}: package.json lacks @rustlb/${dep}`);
        if (!refs.includes(dep)) missing.push(`${pkg}: tsconfig.json lacks a reference to ../${dep}`);
      }
    }
    assert.deepEqual(missing, []);
  });

  test('only rustlb and supervisor import node:cluster', () => {
    const users: string[] = [];
    for (const pkg of PACKAGES) {
      for (const file of sourceFiles(pkg)) {
        if (specifiers(file).some((s) => s === 'node:cluster' || s === 'cluster') && !CLUSTER_USERS.has(pkg)) users.push(relative(ROOT, file));
      }
    }
    assert.deepEqual(users, []);
  });
});

/**
 * The backticked `@rustlb/…` and `node:…` names in a README's bullet that starts with
 * `label` (up to the next bullet or blank line); null when there is no such bullet.
 */
function readmeBullet(text: string, label: string): string[] | null {
  const start = text.indexOf(`- **${label}:**`);
  if (start < 0) return null;
  const rest = text.slice(start + 1);
  const end = /\n(?:- |\n)/.exec(rest);
  const bullet = end === null ? rest : rest.slice(0, end.index);
  return [...bullet.matchAll(/`((?:@rustlb\/|node:)[a-z0-9/_-]+)`/g)].map((m) => m[1] as string).sort();
}

function readme(pkg: string): string | null {
  const path = join(ROOT, 'packages', pkg, 'README.md');
  return existsSync(path) ? readFileSync(path, 'utf8') : null;
}

describe('package READMEs state the table', () => {
  test('every package has a README.md', () => {
    assert.deepEqual(
      PACKAGES.filter((pkg) => readme(pkg) === null),
      [],
    );
  });

  test('"May import" and "Must never import" agree with ALLOWED (and node:cluster with its users)', () => {
    const wrong: string[] = [];
    for (const pkg of PACKAGES) {
      const text = readme(pkg);
      if (text === null) continue;
      const allowed = ALLOWED[pkg] ?? [];
      const may = allowed.map((d) => `@rustlb/${d}`).sort();
      const never = PACKAGES.filter((d) => d !== pkg && !allowed.includes(d)).map((d) => `@rustlb/${d}`);
      if (!CLUSTER_USERS.has(pkg)) never.push('node:cluster');
      never.sort();
      const saysMay = readmeBullet(text, 'May import');
      const saysNever = readmeBullet(text, 'Must never import');
      if (JSON.stringify(saysMay) !== JSON.stringify(may))
        wrong.push(`${pkg}: May import says ${JSON.stringify(saysMay)}, ALLOWED says ${JSON.stringify(may)}`);
      if (JSON.stringify(saysNever) !== JSON.stringify(never))
        wrong.push(`${pkg}: Must never import says ${JSON.stringify(saysNever)}, the table says ${JSON.stringify(never)}`);
    }
    assert.deepEqual(wrong, []);
  });

  test('each README names its entry points', () => {
    const missing = PACKAGES.filter((pkg) => !(readmeBullet(readme(pkg) ?? '', 'Entry points') ?? []).includes(`@rustlb/${pkg}`));
    assert.deepEqual(missing, []);
  });
});

test('no `export *` anywhere', () => {
  const offenders: string[] = [];
  for (const file of walk(ROOT)) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
    for (const statement of source.statements) {
      if (ts.isExportDeclaration(statement) && (statement.exportClause === undefined || ts.isNamespaceExport(statement.exportClause))) {
        offenders.push(`${relative(ROOT, file)}:${source.getLineAndCharacterOfPosition(statement.getStart(source)).line + 1}`);
      }
    }
  }
  assert.deepEqual(offenders, []);
});

test('selection and the health state machine are pure: no node: module, no clock, no timer', () => {
  const files = [...sourceFiles('balancer'), join(ROOT, 'packages/health/src/state.ts')];
  const impure: string[] = [];
  for (const file of files) {
    const outside = specifiers(file).filter((s) => !s.startsWith('.') && !s.startsWith('@rustlb/'));
    if (outside.length > 0) impure.push(`${relative(ROOT, file)} imports ${outside.join(', ')}`);
    const text = readFileSync(file, 'utf8');
    const effect = /\b(?:setTimeout|setInterval|setImmediate|Date\.now|performance\.now|process\.|Math\.random)\b/.exec(text);
    if (effect !== null) impure.push(`${relative(ROOT, file)} uses ${effect[0]}`);
  }
  assert.ok(files.length > 5, 'the balancer sources were found');
  assert.deepEqual(impure, []);
});
