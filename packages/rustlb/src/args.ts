import { type LogLevel, VERSION } from '@rustlb/core';
import yargs from 'yargs';

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;

/** Exit codes of SPEC §2. */
export const EXIT = { ok: 0, runtime: 1, usage: 2 } as const;

export interface Args {
  readonly config: string;
  readonly logLevel: LogLevel | undefined;
  readonly validate: boolean;
  readonly watch: boolean;
  readonly workers: number | undefined;
}

interface Parsed {
  config?: string;
  'log-level'?: LogLevel;
  validate: boolean;
  'no-watch': boolean;
  workers?: number;
}

/** The command line of `rustlb`, or the exit code when it was help, version or a usage error (already reported). */
export function parseArgs(argv: readonly string[]): { args: Args } | { exit: number } {
  let failure: string | null = null;
  const parser = yargs([...argv])
    .scriptName('rustlb')
    // `--no-watch` is an option of its own (SPEC §2), not yargs' negation of `--watch`;
    // a repeated option takes its last value, as in most Unix tools.
    .parserConfiguration({ 'boolean-negation': false, 'duplicate-arguments-array': false })
    .usage('Usage: $0 [OPTIONS] --config <FILE>\n\nA Layer 4 (TCP) and Layer 7 (HTTP/1.1) load balancer.')
    .option('config', { alias: 'c', type: 'string', requiresArg: true, describe: 'configuration file (YAML)' })
    // In any case (`INFO`, `Warn`), as the original took it.
    .option('log-level', {
      alias: 'l',
      choices: LEVELS,
      requiresArg: true,
      describe: 'override log level',
      coerce: (level: unknown) => (typeof level === 'string' ? level.toLowerCase() : level),
    })
    .option('validate', { type: 'boolean', default: false, describe: 'validate the configuration, print a summary, exit' })
    .option('no-watch', { type: 'boolean', default: false, describe: 'do not watch the configuration file' })
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
    .epilogue('Exit codes: 0 ok; 1 runtime failure (e.g. a port already in use); 2 invalid usage or configuration.')
    .wrap(Math.min(100, process.stdout.columns ?? 100));
  const parsed = parser.parseSync() as unknown as Parsed;
  const usage = (message: string) => {
    process.stderr.write(`rustlb: ${message}\nTry 'rustlb --help'.\n`);
    return { exit: EXIT.usage };
  };
  if (failure !== null) return usage(failure);
  if (argv.some((a) => a === '--help' || a === '-h' || a === '--version' || a === '-V')) return { exit: EXIT.ok };
  if (parsed.config === undefined || parsed.config === '') return usage('--config <FILE> is required');
  const workers = parsed.workers;
  if (workers !== undefined && (!Number.isInteger(workers) || workers < 1 || workers > 256)) return usage('--workers must be a whole number from 1 to 256');
  return {
    args: { config: parsed.config, logLevel: parsed['log-level'], validate: parsed.validate, watch: !parsed['no-watch'], workers },
  };
}
