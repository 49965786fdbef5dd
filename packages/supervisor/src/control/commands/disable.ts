import { serverState } from './server-state.js';

/** Like drain, with health checks paused (maintenance). */
export const disable = serverState('disabled');
