import { type ControlCommand, type ControlResponse, isRustlbError, type ReloadResult, type StatusResult, VERSION } from '@rustlb/core';
import yargs from 'yargs';
import { request } from './client.js';
import { reloadOutcome } from './commands/reload.js';
import { type RestartAnswer, restartOutcome } from './commands/restart-workers.js';
import { serverStateOutcome } from './commands/server-state.js';
import { statusOutcome } from './commands/status.js';
import { EXIT, json, type Outcome } from './output.js';
import { DEFAULT_CONFIG, findSocket } from './socket-path.js';

interface Args {
  _: (string | number)[];
  config?: string;
  socket?: string;
  json: boolean;
  server?: string;
  file?: string;
}

/** Commands that talk to the daemon, with how long they may take to answer. */
const TIMEOUTS: Readonly<Record<ControlCommand, number>> = {
  reload: 60_000,
  status: 15_000,
  drain: 10_000,
  enable: 10_000,
  disable: 10_000,
  'restart-workers': 600_000,
};

function parse(argv: readonly string[]): { args: Args } | { exit: number } {
  let failure: string | null = null;
  const serverArg = (y: ReturnType<typeof yargs>) => y.positional('server', { type: 'string', describe: 'BACKEND/ADDRESS, e.g. web/10.0.0.1:8080' });
  const args = yargs([...argv])
    .scriptName('rustlb-ctl')
    .usage('Usage: $0 [--config FILE | --socket PATH] [--json] <command>\n\nControls a running rustlb over its control socket.')
    .command('reload', 're-read and validate the config; apply it everywhere or keep the old one')
    .command('status', 'version, uptime, generation, workers, frontends, backends and servers')
    .command('validate <file>', 'validate a configuration file (no daemon needed)', (y) => y.positional('file', { type: 'string' }))
    .command('drain <server>', 'no new requests or connections for a server; existing ones finish', serverArg)
    .command('enable <server>', 'return a server to rotation (health decides)', serverArg)
    .command('disable <server>', 'maintenance: like drain, with health checks paused', serverArg)
    .command('restart-workers', 'rolling restart of the workers, without losing a request')
    .option('config', { alias: 'c', type: 'string', requiresArg: true, describe: 'the config file rustlb runs with (finds its control socket)' })
    .option('socket', { type: 'string', requiresArg: true, describe: 'path of the control socket' })
    .option('json', { type: 'boolean', default: false, describe: 'answer in JSON' })
    .demandCommand(1, 'name a command')
    .epilogue('Exit codes: 0 ok; 1 refused or failed (e.g. a rejected reload); 2 invalid usage; 3 rustlb is not running.')
    .version(VERSION)
    .alias('version', 'V')
    .help()
    .alias('help', 'h')
    .strict()
    .exitProcess(false)
    .fail((msg, err) => {
      failure = msg ?? err?.message ?? 'invalid usage';
    })
    .parseSync() as unknown as Args;
  if (failure !== null) {
    process.stderr.write(`rustlb-ctl: ${failure}\nTry 'rustlb-ctl --help'.\n`);
    return { exit: EXIT.usage };
  }
  if (argv.some((a) => a === '--help' || a === '-h' || a === '--version' || a === '-V')) return { exit: EXIT.ok };
  return { args };
}

async function run(args: Args): Promise<Outcome> {
  const command = String(args._[0]);
  if (command === 'validate') {
    // The validator (ajv, the schema) loads only for this command: the others start faster without it.
    const { validateOutcome } = await import('./commands/validate.js');
    return validateOutcome(args.file as string, args.json);
  }
  let socket: string | null;
  try {
    socket = await findSocket({ socket: args.socket, config: args.config });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return failure(EXIT.usage, 'RLB_ERR_CONFIG_READ', `cannot read ${args.config}: ${e.code === 'ENOENT' ? 'no such file' : (e.code ?? e.message)}`, args.json);
  }
  if (socket === null) {
    return failure(
      EXIT.usage,
      'RLB_ERR_USAGE',
      `name the daemon with --config FILE or --socket PATH (or set RUSTLB_SOCKET); ${DEFAULT_CONFIG} does not exist`,
      args.json,
    );
  }
  const cmd = command as ControlCommand;
  if (args.server !== undefined && !/^[^/\s]+\/\S+$/.test(args.server)) {
    return failure(EXIT.usage, 'RLB_ERR_USAGE', `a server is named BACKEND/ADDRESS (e.g. web/10.0.0.1:8080), not ${JSON.stringify(args.server)}`, args.json);
  }
  let answer: ControlResponse;
  try {
    answer = await request(socket, cmd, args.server, TIMEOUTS[cmd]);
  } catch (err) {
    const notRunning = isRustlbError(err) && err.code === 'RLB_ERR_NOT_RUNNING';
    return failure(notRunning ? EXIT.notRunning : EXIT.refused, isRustlbError(err) ? err.code : 'RLB_ERR_INTERNAL', (err as Error).message, args.json);
  }
  if (!answer.ok) return failure(EXIT.refused, answer.error.code, answer.error.message, args.json, answer.error.details);
  switch (cmd) {
    case 'reload':
      return reloadOutcome(answer.result as ReloadResult, args.json);
    case 'status':
      return statusOutcome(answer.result as StatusResult, args.json);
    case 'restart-workers':
      return restartOutcome(answer.result as RestartAnswer, args.json);
    default:
      return serverStateOutcome(answer.result as { server: string; state: string }, args.json);
  }
}

/** A failed command: the message on stderr, and with --json also `{ error }` on stdout for scripts. */
function failure(exitCode: number, code: string, message: string, asJson: boolean, details?: unknown): Outcome {
  return {
    exitCode,
    stdout: asJson ? json({ error: { code, message, ...(details === undefined ? {} : { details }) } }) : '',
    stderr: `rustlb-ctl: ${message}\n`,
  };
}

/** `rustlb-ctl`: resolves with the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const parsed = parse(argv);
  if ('exit' in parsed) return parsed.exit;
  let outcome: Outcome;
  try {
    outcome = await run(parsed.args);
  } catch (err) {
    outcome = failure(EXIT.refused, isRustlbError(err) ? err.code : 'RLB_ERR_INTERNAL', (err as Error).message, parsed.args.json);
  }
  process.stdout.write(outcome.stdout);
  if (outcome.stderr !== undefined) process.stderr.write(outcome.stderr);
  return outcome.exitCode;
}
