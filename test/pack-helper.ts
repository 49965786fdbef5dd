// Packs the repository with `npm pack` and installs the tarball globally into a
// temporary prefix, as a user would with `npm install -g rustlb-<version>.tgz`, for
// test/package.test.ts (whose last test also runs the container image's command against
// it: the image installs the same tarball the same way); `run` serves test/docs.test.ts
// too. Not a test file itself.
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ROOT } from '@rustlb/testkit';

export interface PackedFile {
  readonly path: string;
  readonly size: number;
}

export interface Installed {
  /** Temporary directory holding everything (readable by every user). */
  readonly dir: string;
  readonly tarball: string;
  /** What `npm pack --json` says went in. */
  readonly files: readonly PackedFile[];
  readonly bundled: readonly string[];
  /** The global prefix: `bin/` has the commands. */
  readonly prefix: string;
  /** Where the package landed: `<prefix>/lib/node_modules/rustlb`. */
  readonly packageDir: string;
  bin(name: 'rustlb' | 'rustlb-ctl'): string;
  remove(): void;
}

/** npm's own settings from an enclosing `npm test` must not leak into the child npm. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.toLowerCase().startsWith('npm_')) env[k] = v;
  // The commands' `#!/usr/bin/env node` finds this very node.
  env.PATH = `${dirname(process.execPath)}:${env.PATH ?? ''}`;
  return env;
}

export function run(
  file: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      file,
      [...args],
      { cwd: options.cwd ?? ROOT, env: options.env ?? cleanEnv(), timeout: options.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : null;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

export const testEnv = cleanEnv;

/**
 * `npm pack` (the build is done: `npm test` runs `tsc -b` first, so scripts are skipped),
 * then `npm install -g --offline` with an empty cache: it succeeds only if the tarball
 * carries every dependency, i.e. it installs on a machine with only Node.
 */
export async function packAndInstall(): Promise<Installed> {
  const dir = mkdtempSync(join(tmpdir(), 'rustlb-pack-'));
  chmodSync(dir, 0o755);
  const pack = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { timeoutMs: 120_000 });
  if (pack.code !== 0) throw new Error(`npm pack failed (${pack.code}): ${pack.stderr}`);
  const [info] = JSON.parse(pack.stdout) as { filename: string; files: PackedFile[]; bundled: string[] }[];
  if (info === undefined) throw new Error(`npm pack printed no result: ${pack.stdout}`);
  const tarball = join(dir, readdirSync(dir).find((f) => f.endsWith('.tgz')) ?? info.filename);
  const prefix = join(dir, 'prefix');
  const install = await run(
    'npm',
    ['install', '--global', '--offline', '--no-audit', '--no-fund', '--prefix', prefix, '--cache', join(dir, 'npm-cache'), tarball],
    { cwd: dir, timeoutMs: 120_000 },
  );
  if (install.code !== 0) throw new Error(`npm install -g of the tarball failed (${install.code}): ${install.stderr}`);
  return {
    dir,
    tarball,
    files: info.files,
    bundled: info.bundled,
    prefix,
    packageDir: join(prefix, 'lib', 'node_modules', 'rustlb'),
    bin: (name) => join(prefix, 'bin', name),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
