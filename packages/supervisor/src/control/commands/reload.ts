import type { CommandHandler } from '../target.js';

/** Re-reads and validates the file; applies it everywhere or keeps the old one. */
export const reload: CommandHandler = (target) => target.reload('rustlb-ctl');
