import { serverState } from './server-state.js';

/** Back to rotation, as health decides. */
export const enable = serverState('enabled');
