import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { formatProblem, loadConfigFile, summarize } from '@rustlb/config';
import { isRustlbError, type LogLevel, VERSION } from '@rustlb/core';
import { Supervisor } from '@rustlb/supervisor';
import { createLogger } from '@rustlb/telemetry';
import yargs from 'yargs';

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;

/** Exit codes of SPEC §2. */
export const EXIT = { ok: 0, runtime: 1, usage: 2 } as const;

interface Args {
  config?: string;
  'log-level'?: LogLevel;
  validate: boolean;
  watch: boolean;
  workers?: number;
}

function parse(argv: readonly string[]): { args: Args } | { exit: number } {
  let failure: string | null = null;
  let early: number | null = null;
  const parser = yargs([...argv])
    .scriptName('rustlb')
    .usage('Usage: $0 [OPTIONS] --config <FILE>\n\nA Layer 4 (TCP) and Layer 7 (HTTP/1.1) load balancer.')
    .option('config', { alias: 'c', type: 'string', requiresArg: true, describe: 'configuration file (YAML)' })
    .option('log-level', { alias: 'l', choices: LEVELS, requiresArg: true, describe: 'override log level' })
    .option('validate', { type: 'boolean', default: false, describe: 'validate the configuration, print a summary, exit' })
    .option('watch', { type: 'boolean', default: true, describe: 'watch the configuration file (--no-watch: do not)' })
    .option('workers', { alias: 'w', type: 'number', requiresArg: true, describe: 'number of workers (overrides global.workers)' })
    .version(VERSION)
    .alias('version', 'V')
    .help()
    .alias('help', 'h')
    .strict()
    .exitProcess(false)
    .fail((msg, err) => {
      failure = msg ?? err?.message ?? 'invalid usage';
    })
    .wrap(Math.min(100, process.stdout.columns ?? 100));
  const args = parser.parseSync() as unknown as Args & { help?: boolean; version?: boolean };
  if (failure !== null) {
    process.stderr.write(`rustlb: ${failure}\nTry 'rustlb --help'.\n`);
    return { exit: EXIT.usage };
  }
  if (argv.some((a) => a === '--help' || a === '-h' || a === '--version' || a === '-V')) early = EXIT.ok;
  if (early !== null) return { exit: early };
  if (args.config === undefined) {
    process.stderr.write("rustlb: --config <FILE> is required\nTry 'rustlb --help'.\n");
    return { exit: EXIT.usage };
  }
  if (args.workers !== undefined && (!Number.isInteger(args.workers) || args.workers < 1 || args.workers > 256)) {
    process.stderr.write('rustlb: --workers must be a whole number from 1 to 256\n');
    return { exit: EXIT.usage };
  }
  return { args };
}

/** `rustlb`: validate, or run the primary until it is stopped. Resolves with the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const parsed = parse(argv);
  if ('exit' in parsed) return parsed.exit;
  const { args } = parsed;
  const file = args.config as string;
  const loaded = await loadConfigFile(file);
  for (const w of loaded.warnings) process.stderr.write(`warning: ${formatProblem(w)}\n`);
  if (!loaded.ok) {
    process.stderr.write(`rustlb: invalid configuration ${file}:\n`);
    for (const e of loaded.errors) process.stderr.write(`  ${formatProblem(e)}\n`);
    return EXIT.usage;
  }
  const config = loaded.config;
  if (args.validate) {
    process.stdout.write(`configuration ${file} is valid\n${summarize(config)}\n`);
    return EXIT.ok;
  }
  const workers = args.workers ?? (config.global.workers === 'auto' ? availableParallelism() : config.global.workers);
  const logLevel = args['log-level'] ?? config.global.logLevel;
  const log = createLogger({ level: logLevel, format: config.global.logFormat, base: { role: 'primary' } });
  const { readFile } = await import('node:fs/promises');
  const supervisor = new Supervisor({
    configFile: file,
    config,
    configText: await readFile(file, 'utf8'),
    overrides: { logLevel: args['log-level'] },
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
