import type { CommandHandler } from '../target.js';

/** Rolling restart: each new worker is up and listening before its predecessor drains (the steps: `src/rolling-restart.ts`). */
export const restartWorkers: CommandHandler = (target) => target.rollingRestart.run();
