import type { CommandHandler } from '../target.js';

/** Re-reads and validates the file; applies it everywhere or keeps the old one (the steps: `src/reload.ts`). */
export const reload: CommandHandler = (target) => target.reloads.run('rustlb-ctl');
