import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { freePort, ROOT, runCtl, runRustlb } from '@rustlb/testkit';
import { parse } from 'yaml';

const dir = mkdtempSync(join(tmpdir(), 'rustlb-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

interface Example {
  frontends: { name: string; backend: string; algorithm?: string }[];
  backends: { name: string }[];
}

const EXAMPLES = ['simple', 'tcp-proxy', 'weighted', 'full-featured', 'annotated-defaults'];

// Started together: each run is mostly Node's start-up, which overlaps well.
const validations = new Map(EXAMPLES.map((name) => [name, runRustlb(['--validate', '--config', join(ROOT, 'config/examples', `${name}.yaml`)])]));

describe('rustlb --validate', () => {
  for (const name of EXAMPLES) {
    test(`config/examples/${name}.yaml: exit 0 and a summary of frontends, backends and algorithms`, async () => {
      const path = join(ROOT, 'config/examples', `${name}.yaml`);
      const example = parse(readFileSync(path, 'utf8')) as Example;
      const r = await (validations.get(name) as ReturnType<typeof runRustlb>);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
      assert.match(r.stdout, /is valid/);
      for (const f of example.frontends) {
        assert.match(r.stdout, new RegExp(`^ {2}${f.name}: .* -> ${f.backend} \\(${f.algorithm ?? 'round_robin'}\\)$`, 'm'), `frontend ${f.name}`);
      }
      for (const b of example.backends) assert.match(r.stdout, new RegExp(`^ {2}${b.name}: \\d+ server\\(s\\)`, 'm'), `backend ${b.name}`);
    });
  }

  test('an invalid file: exit 2, every error with its path and line on stderr, nothing on stdout', async () => {
    const path = file(
      'invalid.yaml',
      [
        'global:',
        '  log_level: loud',
        'frontends:',
        '  - name: web',
        '    listen: "127.0.0.1:0"',
        '    backend: api',
        '    algoritm: weighted',
        'backends:',
        '  - name: pool',
        '    servers:',
        '      - address: "127.0.0.1:9001"',
        '        weight: 0',
        '',
      ].join('\n'),
    );
    const r = await runRustlb(['--validate', '-c', path]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    const expected = [
      'global.log_level (line 2): must be one of trace, debug, info, warn, error (got "loud")',
      'frontends[0].listen (line 5): port 0 is out of range: use 1-65535',
      'frontends[0].backend (line 6): no backend named "api"',
      'frontends[0].algoritm (line 7): unknown key "algoritm" (did you mean "algorithm"?)',
      'backends[0].servers[0].weight (line 12): must be a whole number from 1 to 4294967295 (0 would never be picked: leave such a server out, or drain it with rustlb-ctl) (got 0)',
    ];
    assert.deepEqual(r.stderr.trimEnd().split('\n'), [`rustlb: invalid configuration ${path} (5 errors):`, ...expected.map((e) => `  ${e}`)]);
  });

  test('an invalid file without --validate also exits 2 before starting anything', async () => {
    const path = file('invalid-run.yaml', 'frontends: []\nbackends: []\nglobal:\n  workers: 0\n');
    const r = await runRustlb(['-c', path, '--no-watch']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^ {2}global\.workers \(line 4\): must be "auto" or a whole number from 1 to 256 \(got 0\)$/m);
  });

  test('a YAML syntax error: exit 2 with its line', async () => {
    const path = file('syntax.yaml', 'frontends:\n  - name: web\n    listen: "127.0.0.1:8080\nbackends: []\n');
    const r = await runRustlb(['--validate', '-c', path]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /\(line 3\): YAML syntax error: this quoted string is never closed/);
  });

  test('a missing file: exit 2, naming the file', async () => {
    const path = join(dir, 'does-not-exist.yaml');
    const r = await runRustlb(['--validate', '--config', path]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, `rustlb: cannot read ${path}: no such file\n`);
  });
});

describe('rustlb usage', () => {
  test('an unknown option: exit 2, naming it', async () => {
    const r = await runRustlb(['--config', 'x.yaml', '--frobnicate']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Unknown argument: frobnicate/);
    assert.match(r.stderr, /rustlb --help/);
  });

  test('no --config, a bad --workers or --log-level: exit 2', async () => {
    const cases = [[], ['--validate'], ['-c', 'x.yaml', '--workers', '0'], ['-c', 'x.yaml', '-w', 'many'], ['-c', 'x.yaml', '--log-level', 'loud'], ['-c']];
    const results = await Promise.all(cases.map((args) => runRustlb(args)));
    results.forEach((r, i) => {
      const args = (cases[i] as string[]).join(' ');
      assert.equal(r.code, 2, `rustlb ${args}: ${r.stderr}`);
      assert.match(r.stderr, /^rustlb: /, args);
    });
  });

  test('--log-level in any case (INFO, Warn), as the original took it', async () => {
    const file = join(ROOT, 'config/examples/simple.yaml');
    for (const level of ['INFO', 'Warn', 'debug']) {
      const r = await runRustlb(['--validate', '-c', file, '--log-level', level]);
      assert.equal(r.code, 0, `--log-level ${level}: ${r.stderr}`);
    }
  });

  test("--version and -V print package.json's version", async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const r of await Promise.all([runRustlb(['--version']), runRustlb(['-V'])])) {
      assert.equal(r.code, 0);
      assert.equal(r.stdout, `${version}\n`);
    }
  });

  test('--help lists every option of SPEC §2', async () => {
    const [r, short] = await Promise.all([runRustlb(['--help']), runRustlb(['-h'])]);
    assert.equal(r.code, 0);
    for (const option of [/-c, --config/, /-l, --log-level/, /\s--validate\s/, /\s--no-watch\s/, /-w, --workers/, /-h, --help/, /-V, --version/]) {
      assert.match(r.stdout, option);
    }
    for (const level of ['trace', 'debug', 'info', 'warn', 'error']) assert.match(r.stdout, new RegExp(`"${level}"`));
    assert.equal(short.stdout, r.stdout);
  });

  test('a frontend port already in use: exit 1, naming the address', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const port = (blocker.address() as { port: number }).port;
      const path = file(
        'in-use.yaml',
        [
          'global:',
          '  metrics:',
          `    address: "127.0.0.1:${await freePort()}"`,
          '  admin:',
          `    socket: ${join(dir, 'in-use.sock')}`,
          'frontends:',
          '  - name: web',
          `    listen: "127.0.0.1:${port}"`,
          '    protocol: http',
          '    backend: pool',
          'backends:',
          '  - name: pool',
          '    servers:',
          '      - address: "127.0.0.1:9"',
          '',
        ].join('\n'),
      );
      const r = await runRustlb(['-c', path, '--workers', '1', '--no-watch']);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`127\\.0\\.0\\.1:${port}`));
      assert.match(r.stderr, /already in use/);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});

test('rustlb-ctl --help lists its commands', async () => {
  const r = await runCtl(['--help']);
  assert.equal(r.code, 0, r.stderr);
  for (const command of ['reload', 'status', 'validate <file>', 'drain <server>', 'enable <server>', 'disable <server>', 'restart-workers']) {
    assert.match(r.stdout, new RegExp(`rustlb-ctl ${command}\\s`), command);
  }
});
