import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { isRustlbError, type ResolvedConfig } from '@rustlb/core';
import { Supervisor } from '@rustlb/supervisor';
import { type Args, EXIT } from './args.js';

/** Runs the primary on a validated configuration until it is stopped; resolves with the exit code. */
export function run(args: Args, config: ResolvedConfig, configText: string, filesDigest?: string): Promise<number> {
  const workers = args.workers ?? (config.global.workers === 'auto' ? availableParallelism() : config.global.workers);
  const supervisor = new Supervisor({
    configFile: args.config,
    config,
    configText,
    filesDigest,
    overrides: { logLevel: args.logLevel },
    workers,
    watch: args.watch,
    workerEntry: fileURLToPath(new URL('./worker-entry.js', import.meta.url)),
    logLevel: args.logLevel ?? config.global.logLevel,
    logFormat: config.global.logFormat,
  });
  return new Promise<number>((resolve) => {
    let stopping = false;
    const finish = (code: number) => {
      // Not flushSync: a write still in progress would be overtaken by the rest, or lost at the exit.
      void supervisor.flushLogs().then(() => resolve(code));
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
          supervisor.logFatal(err, 'shutdown failed');
          finish(EXIT.runtime);
        },
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGHUP', () => void supervisor.reloads.run('SIGHUP'));
    supervisor.start().catch((err: unknown) => {
      const message = isRustlbError(err) ? err.message : (err as Error).message;
      supervisor.logFatal(err, `cannot start: ${message}`);
      process.stderr.write(`rustlb: ${message}\n`);
      stopping = true;
      supervisor.forceStop();
      finish(EXIT.runtime);
    });
  });
}
