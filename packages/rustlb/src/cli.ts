import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { formatProblem, loadConfigFile, summarize } from '@rustlb/config';
import { isRustlbError } from '@rustlb/core';
import { Supervisor } from '@rustlb/supervisor';
import { createLogger } from '@rustlb/telemetry';
import { EXIT, parseArgs } from './args.js';

export { EXIT } from './args.js';

/** `rustlb`: validate, or run the primary until it is stopped. Resolves with the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseArgs(argv);
  if ('exit' in parsed) return parsed.exit;
  const { args } = parsed;
  const file = args.config;
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
  const config = loaded.config;
  if (args.validate) {
    process.stdout.write(`configuration ${file} is valid\n${summarize(config)}\n`);
    return EXIT.ok;
  }
  const workers = args.workers ?? (config.global.workers === 'auto' ? availableParallelism() : config.global.workers);
  const logLevel = args.logLevel ?? config.global.logLevel;
  const log = createLogger({ level: logLevel, format: config.global.logFormat, base: { role: 'primary' } });
  const { readFile } = await import('node:fs/promises');
  const supervisor = new Supervisor({
    configFile: file,
    config,
    configText: await readFile(file, 'utf8'),
    overrides: { logLevel: args.logLevel },
    workers,
    watch: args.watch,
    workerEntry: fileURLToPath(new URL('./worker-entry.js', import.meta.url)),
    log,
  });
  return new Promise<number>((resolve) => {
    let stopping = false;
    const finish = (code: number) => {
      log.flushSync();
      resolve(code);
    };
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        if (signal === 'SIGINT') {
          supervisor.forceStop();
          finish(130);
        }
        return;
      }
      stopping = true;
      supervisor.shutdown(signal).then(
        () => finish(EXIT.ok),
        (err: unknown) => {
          log.logger.error({ err }, 'shutdown failed');
          finish(EXIT.runtime);
        },
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGHUP', () => void supervisor.reload('SIGHUP'));
    supervisor.start().catch((err: unknown) => {
      const message = isRustlbError(err) ? err.message : (err as Error).message;
      log.logger.fatal({ err, code: isRustlbError(err) ? err.code : undefined }, `cannot start: ${message}`);
      process.stderr.write(`rustlb: ${message}\n`);
      stopping = true;
      supervisor.forceStop();
      finish(EXIT.runtime);
    });
  });
}
