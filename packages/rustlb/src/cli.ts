import { EXIT, parseArgs } from './args.js';

export { EXIT } from './args.js';

/** `rustlb`: validate, or run the primary until it is stopped. Resolves with the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseArgs(argv);
  if ('exit' in parsed) return parsed.exit;
  const { args } = parsed;
  const file = args.config;
  // Each layer is loaded only when needed: --help and --version answer without the
  // config loader, --validate without the supervisor, its logger and metrics.
  const { formatProblem, loadConfigFile, summarize } = await import('@rustlb/config');
  const loaded = await loadConfigFile(file);
  for (const w of loaded.warnings) process.stderr.write(`warning: ${formatProblem(w)}\n`);
  if (!loaded.ok && loaded.unreadable === true) {
    process.stderr.write(`rustlb: ${loaded.errors.map((e) => e.message).join('; ')}\n`);
    return EXIT.usage;
  }
  if (!loaded.ok) {
    const count = loaded.errors.length === 1 ? '1 error' : `${loaded.errors.length} errors`;
    process.stderr.write(`rustlb: invalid configuration ${file} (${count}):\n`);
    for (const e of loaded.errors) process.stderr.write(`  ${formatProblem(e)}\n`);
    return EXIT.usage;
  }
  if (args.validate) {
    process.stdout.write(`configuration ${file} is valid\n${summarize(loaded.config)}\n`);
    return EXIT.ok;
  }
  const { run } = await import('./run.js');
  return run(args, loaded.config, loaded.text, loaded.filesDigest);
}
