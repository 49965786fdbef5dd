import type { CommandHandler } from '../target.js';

/** Version, uptime, generation, workers, frontends, backends and their servers. */
export const status: CommandHandler = (target) => target.status();
