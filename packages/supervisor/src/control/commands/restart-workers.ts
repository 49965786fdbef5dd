import type { CommandHandler } from '../target.js';

/** Rolling restart: each new worker is up and listening before its predecessor drains. */
export const restartWorkers: CommandHandler = (target) => target.restartWorkers();
